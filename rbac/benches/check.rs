//! Checks per second on one thread, on a realistic model: one subscription, 500 role
//! assignments over 50 principals (10 of them groups' members), the built-in roles, a deny
//! assignment, and a mix of allowed and denied actions at workspace and compute scopes.
//!
//! Run with `cargo bench -p rbac`. It prints figures; it asserts nothing.
#![allow(
    clippy::disallowed_methods,
    reason = "tests, benches and tools may use the real clock, environment and processes"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use rbac::{AccessModel, Action, DenyAssignment, Scope, builtin};

/// A small deterministic generator (no dependency needed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn principal(i: usize) -> String {
    format!("{i:08x}-1111-2222-3333-444455556666")
}

fn main() {
    let sub = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    let mut workspaces = Vec::new();
    for rg in 0..5 {
        for ws in 0..4 {
            workspaces.push(format!("{sub}/resourceGroups/rg-{rg}/providers/Microsoft.MachineLearningServices/workspaces/ws-{ws}"));
        }
    }
    let roles: Vec<&str> = builtin::roles()
        .iter()
        .map(|r| r.role_name.as_str())
        .collect();
    let mut rng = Lcg(42);
    let mut b = AccessModel::builder().builtin_roles();
    for i in 0..500 {
        let ws = &workspaces[rng.next(workspaces.len())];
        let scope = match rng.next(10) {
            0 => sub.to_owned(),
            1 => ws.split("/providers").next().unwrap_or(sub).to_owned(),
            2 | 3 => format!("{ws}/computes/ci-{}", rng.next(5)),
            _ => ws.clone(),
        };
        // Principals 0..45 are users/service principals; 45..50 are groups.
        b = b.assign(&principal(i % 50), roles[rng.next(roles.len())], &scope);
    }
    for m in 0..20 {
        b = b.group_member(&principal(45 + m % 5), &principal(m));
    }
    let deny = DenyAssignment::from_json(&format!(
        r#"{{"denyAssignmentName":"protect ws-0","scope":"{}","permissions":[{{"actions":["*/delete"]}}],
           "principals":[{{"id":"00000000-0000-0000-0000-000000000000","type":"SystemDefined"}}],
           "excludePrincipals":[{{"id":"{}","type":"User"}}]}}"#,
        workspaces[0],
        principal(0)
    ))
    .expect("deny assignment json");
    let model = b.denies(deny).build().expect("model");

    let ml = "Microsoft.MachineLearningServices/workspaces";
    let known: Vec<Action> = [
        "read",
        "write",
        "delete",
        "computes/read",
        "computes/write",
        "computes/delete",
        "computes/start/action",
        "computes/stop/action",
        "computes/listKeys/action",
        "jobs/write",
        "experiments/runs/submit/action",
        "onlineEndpoints/score/action",
        "listKeys/action",
        "models/write",
        "datastores/listsecrets/action",
    ]
    .iter()
    .map(|a| Action::parse(&format!("{ml}/{a}")).expect("action"))
    .collect();
    let unknown: Vec<Action> = [
        "computes/frobnicate/action",
        "widgets/read",
        "widgets/write",
        "widgets/delete",
    ]
    .iter()
    .map(|a| Action::parse(&format!("{ml}/{a}")).expect("action"))
    .collect();

    let mut rng = Lcg(7);
    let mut cases = |actions: &[Action]| -> Vec<(String, Action, Scope)> {
        (0..4096)
            .map(|_| {
                let ws = &workspaces[rng.next(workspaces.len())];
                let scope = if rng.next(2) == 0 {
                    ws.clone()
                } else {
                    format!("{ws}/computes/ci-{}", rng.next(5))
                };
                // One check in ten is for a principal the model does not know.
                let who = if rng.next(10) == 0 {
                    principal(1000 + rng.next(100))
                } else {
                    principal(rng.next(50))
                };
                (
                    who,
                    actions[rng.next(actions.len())].clone(),
                    Scope::parse(&scope).expect("scope"),
                )
            })
            .collect()
    };
    let known_cases = cases(&known);
    let unknown_cases = cases(&unknown);

    println!(
        "model: {} roles, {} assignments, 50 principals, 5 groups, 1 deny assignment",
        model.roles().len(),
        model.assignments().len()
    );
    // `cargo bench -p rbac -- ML` runs only the sets whose label contains "ML".
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for (label, cases) in [
        ("ML operations (embedded catalog, bit tests)", &known_cases),
        ("other operations (pattern matching)", &unknown_cases),
    ] {
        if !filter.iter().all(|f| label.contains(f.as_str())) {
            continue;
        }
        let (rate, allowed) = measure(&model, cases);
        println!(
            "{label}: {:.1} M checks/s on one thread ({:.0}% allowed)",
            rate / 1e6,
            allowed * 100.0
        );
    }
}

fn measure(model: &AccessModel, cases: &[(String, Action, Scope)]) -> (f64, f64) {
    let run = |rounds: usize| -> (Duration, usize) {
        let start = Instant::now();
        let mut allowed = 0;
        for _ in 0..rounds {
            for (who, action, scope) in cases {
                allowed += usize::from(
                    black_box(model.check(black_box(who), black_box(action), black_box(scope)))
                        .is_allowed(),
                );
            }
        }
        (start.elapsed(), allowed)
    };
    run(20);
    let mut best = f64::MAX;
    let mut allowed = 0;
    let rounds = 500;
    for _ in 0..5 {
        let (t, a) = run(rounds);
        best = best.min(t.as_secs_f64());
        allowed = a;
    }
    let checks = (rounds * cases.len()) as f64;
    (checks / best, allowed as f64 / checks)
}
