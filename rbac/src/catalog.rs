//! The operation catalog: every operation string the crate knows in advance (the embedded
//! `Microsoft.MachineLearningServices` operations and every literal string in the built-in
//! roles). An [`Action`](crate::Action) in the catalog carries its index, and a compiled role
//! answers for it with one bit test. [`operations`] tells which plane each operation is on.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::action::Plane;
use crate::builtin;

struct Catalog {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut c = Catalog {
            names: Vec::new(),
            index: HashMap::new(),
        };
        let mut add = |s: &str| {
            if s.contains('*') {
                return;
            }
            let lower: Box<str> = s.to_ascii_lowercase().into();
            if !c.index.contains_key(&lower) {
                c.index.insert(lower.clone(), c.names.len() as u32);
                c.names.push(lower);
            }
        };
        for op in builtin::ml_operations() {
            add(&op.name);
        }
        for role in builtin::roles() {
            for p in &role.permissions {
                for a in p
                    .actions
                    .iter()
                    .chain(&p.not_actions)
                    .chain(&p.data_actions)
                    .chain(&p.not_data_actions)
                {
                    add(a.as_str());
                }
            }
        }
        c
    })
}

/// The index of a lowercase operation string.
pub(crate) fn index_of(lower: &str) -> Option<u32> {
    catalog().index.get(lower).copied()
}

/// How many operations the catalog holds.
pub(crate) fn len() -> usize {
    catalog().names.len()
}

/// The lowercase operation string at `i`.
pub(crate) fn name(i: usize) -> &'static str {
    &catalog().names[i]
}

/// The catalog's operations of `plane`: the embedded operations by their `isDataAction`, the
/// built-in roles' literals by the list they appear in. Only least-privilege counts need this.
pub(crate) fn operations(plane: Plane) -> &'static Bits {
    static PLANES: OnceLock<(Bits, Bits)> = OnceLock::new();
    let (control, data) = PLANES.get_or_init(|| {
        let (mut control, mut data) = (Bits::new(), Bits::new());
        let mark = |s: &str, bits: &mut Bits| {
            if let Some(i) = index_of(&s.to_ascii_lowercase()) {
                bits.set(i as usize);
            }
        };
        for op in builtin::ml_operations() {
            let bits = if op.is_data_action {
                &mut data
            } else {
                &mut control
            };
            mark(&op.name, bits);
        }
        for p in builtin::roles().iter().flat_map(|r| &r.permissions) {
            for a in p.actions.iter().chain(&p.not_actions) {
                mark(a.as_str(), &mut control);
            }
            for a in p.data_actions.iter().chain(&p.not_data_actions) {
                mark(a.as_str(), &mut data);
            }
        }
        (control, data)
    });
    match plane {
        Plane::Control => control,
        Plane::Data => data,
    }
}

/// A fixed-size bit set over the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bits(Box<[u64]>);

impl Bits {
    pub(crate) fn new() -> Bits {
        Bits(vec![0; len().div_ceil(64)].into())
    }

    pub(crate) fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    #[inline]
    pub(crate) fn get(&self, i: u32) -> bool {
        let i = i as usize;
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub(crate) fn words(&self) -> &[u64] {
        &self.0
    }

    pub(crate) fn union_with(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= b;
        }
    }

    /// How many of the set's elements are in `within` but not in `except`.
    pub(crate) fn count_within_except(&self, within: &Bits, except: &Bits) -> usize {
        (self.0.iter().zip(&within.0).zip(&except.0))
            .map(|((a, w), e)| (a & w & !e).count_ones() as usize)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_holds_ml_operations_and_builtin_literals() {
        assert!(len() > 289);
        assert_eq!(
            index_of("microsoft.machinelearningservices/register/action"),
            Some(0)
        );
        assert!(index_of("microsoft.authorization/elevateaccess/action").is_some());
        assert!(
            index_of("microsoft.storage/storageaccounts/blobservices/containers/blobs/read")
                .is_some()
        );
        assert_eq!(
            index_of("Microsoft.MachineLearningServices/register/action"),
            None,
            "keys are lowercase"
        );
        let mut b = Bits::new();
        b.set(3);
        b.set(70);
        assert!(b.get(3) && b.get(70) && !b.get(4) && !b.get(100_000));
        assert_eq!(name(0), "microsoft.machinelearningservices/register/action");
        let mut all = operations(Plane::Control).clone();
        all.union_with(operations(Plane::Data));
        let none = Bits::new();
        assert_eq!(b.count_within_except(&all, &none), 2);
        assert_eq!(
            all.count_within_except(&all, &none),
            len(),
            "every operation is on some plane"
        );
        assert_eq!(all.count_within_except(&all, &b), len() - 2);
        let blob_read =
            index_of("microsoft.storage/storageaccounts/blobservices/containers/blobs/read")
                .unwrap();
        assert!(operations(Plane::Data).get(blob_read));
        assert!(!operations(Plane::Control).get(blob_read));
        assert!(operations(Plane::Control).get(0) && !operations(Plane::Data).get(0));
    }
}
