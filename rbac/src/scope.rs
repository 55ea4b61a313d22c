//! ARM scopes: root, management group, subscription, resource group, resource.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// The level of a [`Scope`] in the ARM hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ScopeKind {
    /// `/`, the tenant root.
    Root,
    /// `/providers/Microsoft.Management/managementGroups/{id}`.
    ManagementGroup,
    /// `/subscriptions/{id}`.
    Subscription,
    /// `/subscriptions/{id}/resourceGroups/{name}`.
    ResourceGroup,
    /// A resource or child resource: anything below `.../providers/{Namespace}/{type}/{name}`.
    Resource,
}

impl fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScopeKind::Root => "root",
            ScopeKind::ManagementGroup => "management group",
            ScopeKind::Subscription => "subscription",
            ScopeKind::ResourceGroup => "resource group",
            ScopeKind::Resource => "resource",
        })
    }
}

/// A validated ARM scope (a resource id or one of its ancestors).
///
/// Scopes compare case-insensitively and segment by segment: `/subscriptions/S/resourceGroups/RG`
/// covers `/subscriptions/s/resourcegroups/rg/providers/...` but neither `.../RG2` nor `.../RGX`.
#[derive(Clone)]
pub struct Scope {
    text: Box<str>,
    /// Lowercased segments joined by `/`, each preceded by `/`; the root is empty.
    norm: Box<str>,
    /// For each segment depth `k + 1`: the hash of that prefix of `norm`.
    /// Kept inline (no pointer to follow in a check); deeper prefixes have no hash.
    prefixes: [u64; HASHED_DEPTH],
    /// The number of segments.
    depth: u32,
    kind: ScopeKind,
}

impl Scope {
    /// The root scope `/`.
    pub fn root() -> Scope {
        Scope {
            text: "/".into(),
            norm: "".into(),
            prefixes: [0; HASHED_DEPTH],
            depth: 0,
            kind: ScopeKind::Root,
        }
    }

    /// Parses and validates an ARM scope.
    ///
    /// Accepted shapes: `/`; `/providers/Microsoft.Management/managementGroups/{id}`;
    /// `/subscriptions/{id}`; `/subscriptions/{id}/resourceGroups/{name}`; and a resource below a
    /// subscription, resource group or management group:
    /// `.../providers/{Namespace}/{type}/{name}[/{childType}/{childName}]...`, where a further
    /// `/providers/{Namespace}/{type}/{name}` names an extension resource. Keywords and names are
    /// case-insensitive. Segments may not be empty (so no trailing `/`), nor contain whitespace,
    /// `?` or `#`.
    pub fn parse(s: &str) -> Result<Scope> {
        let kind = validate(s)?;
        let norm = if kind == ScopeKind::Root {
            String::new()
        } else {
            s.to_ascii_lowercase()
        };
        let hashes = prefix_hashes(&norm);
        let mut prefixes = [0; HASHED_DEPTH];
        for (slot, &h) in prefixes.iter_mut().zip(&hashes) {
            *slot = h;
        }
        let depth = hashes.len() as u32;
        Ok(Scope {
            text: s.into(),
            norm: norm.into(),
            prefixes,
            depth,
            kind,
        })
    }

    /// The scope as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The level of this scope.
    pub fn kind(&self) -> ScopeKind {
        self.kind
    }

    /// Whether this scope is `other` or one of its ancestors, comparing whole segments
    /// case-insensitively. The root covers everything.
    ///
    /// Management groups and subscriptions are not linked by their ids; the
    /// [`AccessModel`](crate::AccessModel) links them from the hierarchy it is given.
    pub fn covers(&self, other: &Scope) -> bool {
        covers_norm(&self.norm, &other.norm)
    }

    /// The subscription id, for a subscription or anything below one.
    pub fn subscription_id(&self) -> Option<&str> {
        let mut segs = self.segments();
        match segs.next() {
            Some(s) if s.eq_ignore_ascii_case("subscriptions") => segs.next(),
            _ => None,
        }
    }

    /// The resource group name, for a resource group or anything below one.
    pub fn resource_group(&self) -> Option<&str> {
        let mut segs = self.segments().skip(2);
        match segs.next() {
            Some(s)
                if self.subscription_id().is_some() && s.eq_ignore_ascii_case("resourceGroups") =>
            {
                segs.next()
            }
            _ => None,
        }
    }

    /// The management group id, for a management group or anything below one.
    pub fn management_group(&self) -> Option<&str> {
        let segs: Vec<&str> = self.segments().take(4).collect();
        match segs.as_slice() {
            [p, ns, mg, id]
                if p.eq_ignore_ascii_case("providers")
                    && ns.eq_ignore_ascii_case("Microsoft.Management")
                    && mg.eq_ignore_ascii_case("managementGroups") =>
            {
                Some(id)
            }
            _ => None,
        }
    }

    /// The segments of the scope as written (none for the root).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.text.split('/').filter(|s| !s.is_empty())
    }

    pub(crate) fn norm(&self) -> &str {
        &self.norm
    }

    /// Whether the scope whose normalised form is `outer`, with [`ScopeKey`] `key`, covers this
    /// one. Equivalent to [`covers_norm`], but rejects most non-ancestors with one integer
    /// comparison instead of comparing bytes.
    #[inline]
    pub(crate) fn is_covered_by(&self, outer: &str, key: ScopeKey) -> bool {
        if key.depth == 0 {
            return true;
        }
        if key.depth > self.depth {
            return false;
        }
        if self
            .prefixes
            .get(key.depth as usize - 1)
            .is_some_and(|&h| h != key.hash)
        {
            return false;
        }
        covers_norm(outer, &self.norm)
    }
}

/// How many segment prefixes of a scope carry a hash; an ARM compute id has 10 segments.
const HASHED_DEPTH: usize = 16;

/// The depth (number of segments) of a normalised scope and the hash of its text, for
/// [`Scope::is_covered_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScopeKey {
    depth: u32,
    hash: u64,
}

impl ScopeKey {
    pub(crate) fn of(norm: &str) -> ScopeKey {
        let p = prefix_hashes(norm);
        ScopeKey {
            depth: p.len() as u32,
            hash: p.last().copied().unwrap_or(0),
        }
    }
}

/// The hash of every segment prefix of a normalised scope (`/a/b` → `/a`, `/a/b`).
fn prefix_hashes(norm: &str) -> Vec<u64> {
    let b = norm.as_bytes();
    let mut out = Vec::new();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &c) in b.iter().enumerate() {
        if c == b'/' && i > 0 {
            out.push(h);
        }
        h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    if !b.is_empty() {
        out.push(h);
    }
    out
}

/// Whether the normalised scope `outer` is `inner` or one of its ancestors: `inner` starts with
/// every segment of `outer`. Normalised scopes are `/`-separated lowercase segments that never
/// contain `/`, so a match that ends at a segment boundary is a segment-by-segment match.
#[inline]
pub(crate) fn covers_norm(outer: &str, inner: &str) -> bool {
    let (o, i) = (outer.as_bytes(), inner.as_bytes());
    o.len() <= i.len() && &i[..o.len()] == o && (i.len() == o.len() || i[o.len()] == b'/')
}

fn validate(s: &str) -> Result<ScopeKind> {
    if s.is_empty() {
        return Err(Error::scope(s, "empty scope"));
    }
    if s == "/" {
        return Ok(ScopeKind::Root);
    }
    let Some(rest) = s.strip_prefix('/') else {
        return Err(Error::scope(s, "a scope starts with \"/\""));
    };
    let segs: Vec<&str> = rest.split('/').collect();
    for (i, seg) in segs.iter().enumerate() {
        if seg.is_empty() {
            let reason = if i + 1 == segs.len() {
                "trailing \"/\""
            } else {
                "empty segment"
            };
            return Err(Error::scope(s, reason));
        }
        if seg
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
        {
            return Err(Error::scope(
                s,
                format!("segment {seg:?} contains a space, control character, \"?\" or \"#\""),
            ));
        }
    }
    let is = |i: usize, kw: &str| segs.get(i).is_some_and(|x| x.eq_ignore_ascii_case(kw));
    if is(0, "subscriptions") {
        if segs.len() < 2 {
            return Err(Error::scope(
                s,
                "expected a subscription id after \"subscriptions\"",
            ));
        }
        if segs.len() == 2 {
            return Ok(ScopeKind::Subscription);
        }
        if is(2, "resourceGroups") {
            if segs.len() < 4 {
                return Err(Error::scope(
                    s,
                    "expected a resource group name after \"resourceGroups\"",
                ));
            }
            if segs.len() == 4 {
                return Ok(ScopeKind::ResourceGroup);
            }
            if !is(4, "providers") {
                return Err(Error::scope(
                    s,
                    "expected \"providers\" after a resource group name",
                ));
            }
            return validate_resource(s, &segs[4..]);
        }
        if is(2, "providers") {
            return validate_resource(s, &segs[2..]);
        }
        return Err(Error::scope(
            s,
            "expected \"resourceGroups\" after a subscription id (or \"providers\" for a subscription-level resource)",
        ));
    }
    if is(0, "providers") {
        if !(is(1, "Microsoft.Management") && is(2, "managementGroups")) {
            return Err(Error::scope(
                s,
                "expected \"/providers/Microsoft.Management/managementGroups/{id}\" or \"/subscriptions/{id}\"",
            ));
        }
        if segs.len() < 4 {
            return Err(Error::scope(
                s,
                "expected a management group id after \"managementGroups\"",
            ));
        }
        if segs.len() == 4 {
            return Ok(ScopeKind::ManagementGroup);
        }
        if !is(4, "providers") {
            return Err(Error::scope(
                s,
                "expected \"providers\" after a management group id",
            ));
        }
        return validate_resource(s, &segs[4..]);
    }
    Err(Error::scope(
        s,
        "expected \"subscriptions\" or \"providers\" as the first segment",
    ))
}

/// Validates `providers/{ns}/{type}/{name}[/{type}/{name}]...[/providers/...]`.
fn validate_resource(s: &str, mut segs: &[&str]) -> Result<ScopeKind> {
    loop {
        // segs[0] is "providers"
        let Some(ns) = segs.get(1) else {
            return Err(Error::scope(
                s,
                "expected a resource provider namespace after \"providers\"",
            ));
        };
        if !ns.contains('.') {
            return Err(Error::scope(
                s,
                format!(
                    "{ns:?} is not a resource provider namespace (like \"Microsoft.MachineLearningServices\")"
                ),
            ));
        }
        segs = &segs[2..];
        if segs.is_empty() {
            return Err(Error::scope(
                s,
                format!("expected a resource type after provider {ns:?}"),
            ));
        }
        let mut pairs = 0;
        while let [ty, rest @ ..] = segs {
            if ty.eq_ignore_ascii_case("providers") && pairs > 0 {
                break;
            }
            let Some(_name) = rest.first() else {
                return Err(Error::scope(s, format!("resource type {ty:?} has no name")));
            };
            pairs += 1;
            segs = &rest[1..];
        }
        if segs.is_empty() {
            return Ok(ScopeKind::Resource);
        }
    }
}

impl PartialEq for Scope {
    fn eq(&self, other: &Self) -> bool {
        self.norm == other.norm
    }
}

impl Eq for Scope {}

impl Hash for Scope {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.norm.hash(state);
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.text)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Scope> {
        Scope::parse(s)
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scope, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws";

    fn check(input: &str, expected: std::result::Result<ScopeKind, &str>) {
        let got = Scope::parse(input)
            .map(|s| s.kind())
            .map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "input {input:?}");
    }

    #[test]
    fn parse() {
        use ScopeKind::*;
        check("/", Ok(Root));
        check(
            "/providers/Microsoft.Management/managementGroups/mg1",
            Ok(ManagementGroup),
        );
        check("/subscriptions/s1", Ok(Subscription));
        check("/SUBSCRIPTIONS/s1/RESOURCEGROUPS/rg", Ok(ResourceGroup));
        check(WS, Ok(Resource));
        check(&format!("{WS}/computes/ci1"), Ok(Resource));
        check(
            &format!("{WS}/providers/Microsoft.Insights/diagnosticSettings/d"),
            Ok(Resource),
        );
        check(
            "/subscriptions/s1/providers/Microsoft.MachineLearningServices/locations/westus",
            Ok(Resource),
        );
        check(
            "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/roleAssignments/a",
            Ok(Resource),
        );
        check("/subscriptions/<subscriptionId>", Ok(Subscription));
        check("", Err(r#"invalid scope "": empty scope"#));
        check(
            "subscriptions/s1",
            Err(r#"invalid scope "subscriptions/s1": a scope starts with "/""#),
        );
        check(
            "/subscriptions/s1/",
            Err(r#"invalid scope "/subscriptions/s1/": trailing "/""#),
        );
        check(
            "/subscriptions//resourceGroups/rg",
            Err(r#"invalid scope "/subscriptions//resourceGroups/rg": empty segment"#),
        );
        check(
            "/subscriptions",
            Err(
                r#"invalid scope "/subscriptions": expected a subscription id after "subscriptions""#,
            ),
        );
        check(
            "/subscriptions/x/resourceGroup/rg",
            Err(
                r#"invalid scope "/subscriptions/x/resourceGroup/rg": expected "resourceGroups" after a subscription id (or "providers" for a subscription-level resource)"#,
            ),
        );
        check(
            "/subscriptions/s/resourceGroups",
            Err(
                r#"invalid scope "/subscriptions/s/resourceGroups": expected a resource group name after "resourceGroups""#,
            ),
        );
        check(
            "/subscriptions/s/resourceGroups/rg/workspaces/w",
            Err(
                r#"invalid scope "/subscriptions/s/resourceGroups/rg/workspaces/w": expected "providers" after a resource group name"#,
            ),
        );
        check(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces",
            Err(
                r#"invalid scope "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces": resource type "workspaces" has no name"#,
            ),
        );
        check(
            "/subscriptions/s/resourceGroups/rg/providers/ml/workspaces/w",
            Err(
                r#"invalid scope "/subscriptions/s/resourceGroups/rg/providers/ml/workspaces/w": "ml" is not a resource provider namespace (like "Microsoft.MachineLearningServices")"#,
            ),
        );
        check(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.X",
            Err(
                r#"invalid scope "/subscriptions/s/resourceGroups/rg/providers/Microsoft.X": expected a resource type after provider "Microsoft.X""#,
            ),
        );
        check(
            "/subscriptions/s 1",
            Err(
                r##"invalid scope "/subscriptions/s 1": segment "s 1" contains a space, control character, "?" or "#""##,
            ),
        );
        check(
            "/providers/Microsoft.Authorization/roleDefinitions/x",
            Err(
                r#"invalid scope "/providers/Microsoft.Authorization/roleDefinitions/x": expected "/providers/Microsoft.Management/managementGroups/{id}" or "/subscriptions/{id}""#,
            ),
        );
        check(
            "/tenants/t",
            Err(
                r#"invalid scope "/tenants/t": expected "subscriptions" or "providers" as the first segment"#,
            ),
        );
    }

    fn check_covers(outer: &str, inner: &str, expected: bool) {
        let (o, i) = (Scope::parse(outer).unwrap(), Scope::parse(inner).unwrap());
        assert_eq!(o.covers(&i), expected, "{outer} covers {inner}");
    }

    #[test]
    fn covers() {
        check_covers("/", WS, true);
        check_covers("/subscriptions/s1", WS, true);
        check_covers("/SUBSCRIPTIONS/S1/resourcegroups/RG", WS, true);
        check_covers(WS, WS, true);
        check_covers(WS, &format!("{WS}/computes/c"), true);
        check_covers(&format!("{WS}/computes/c"), WS, false);
        check_covers("/subscriptions/s1", "/subscriptions/s2", false);
        check_covers("/subscriptions/s1", "/subscriptions/s10", false);
        check_covers(
            "/subscriptions/s1/resourceGroups/rg",
            "/subscriptions/s1/resourceGroups/rg2",
            false,
        );
        check_covers(
            "/subscriptions/s1/resourceGroups/rg",
            "/subscriptions/s1/resourceGroups/rgx/providers/A.B/t/n",
            false,
        );
        check_covers(WS, &format!("{WS}2"), false);
        check_covers("/subscriptions/s1", "/", false);
    }

    #[test]
    fn keyed_cover_agrees_with_segment_cover() {
        let scopes = [
            "/",
            "/subscriptions/s1",
            "/subscriptions/s10",
            "/subscriptions/s1/resourceGroups/rg",
            "/subscriptions/s1/resourceGroups/rgx",
            WS,
            &format!("{WS}/computes/c"),
            &format!("{WS}2"),
            "/providers/Microsoft.Management/managementGroups/m",
            // Deeper than the hashed prefixes.
            &format!("{WS}/a/1/b/2/c/3/d/4"),
            &format!("{WS}/a/1/b/2/c/3/d/4/e/5"),
            &format!("{WS}/a/1/b/2/c/3/d/4/e/55"),
            &format!("{WS}/a/1/b/2/c/3/d/44/e/5"),
        ];
        for o in &scopes {
            for i in &scopes {
                let (o, i) = (Scope::parse(o).unwrap(), Scope::parse(i).unwrap());
                assert_eq!(
                    i.is_covered_by(o.norm(), ScopeKey::of(o.norm())),
                    o.covers(&i),
                    "{o} / {i}"
                );
            }
        }
    }

    #[test]
    fn parts() {
        let s = Scope::parse(&format!("{WS}/computes/c")).unwrap();
        assert_eq!(s.subscription_id(), Some("s1"));
        assert_eq!(s.resource_group(), Some("rg"));
        assert_eq!(s.management_group(), None);
        let mg = Scope::parse("/providers/Microsoft.Management/managementGroups/mg1").unwrap();
        assert_eq!(mg.management_group(), Some("mg1"));
        assert_eq!(mg.subscription_id(), None);
        assert_eq!(
            Scope::parse("/SUBSCRIPTIONS/S1").unwrap(),
            Scope::parse("/subscriptions/s1").unwrap()
        );
    }
}
