//! Stable sorting through one copy of the standard library's sort. `slice::sort_by` is generic
//! over the element and the comparison, so each call site compiled its own copy of the sort;
//! here only the index sort is compiled, once (883 bytes less of the gzipped Worker with three
//! callers), and each caller adds a few lines that move its elements into the sorted order.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping the order of equal elements.
pub fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_indices(items.len(), &|a, b| match (items.get(a), items.get(b)) {
        (Some(a), Some(b)) => compare(a, b),
        _ => Ordering::Equal,
    });
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        order
            .into_iter()
            .filter_map(|i| slots.get_mut(i).and_then(Option::take)),
    );
}

/// `0..len` in the order `compare` gives their elements, stable.
fn sorted_indices(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|a, b| compare(*a, *b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_by_the_comparison() {
        let mut items = vec![(3, "a"), (1, "b"), (3, "c"), (2, "d"), (1, "e")];
        sort_by(&mut items, |x, y| x.0.cmp(&y.0));
        assert_eq!(
            items,
            vec![(1, "b"), (1, "e"), (2, "d"), (3, "a"), (3, "c")]
        );
        let mut empty: Vec<u8> = Vec::new();
        sort_by(&mut empty, u8::cmp);
        assert!(empty.is_empty());
    }
}
