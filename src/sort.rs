//! One copy of the sorting code for the whole binary.
//!
//! `slice::sort_by` is generic over the element and the comparison, so
//! every call site gets its own copy of the standard library's stable sort
//! (driftsort: a quicksort, a merge and small-sort networks), 5 to 8 KiB of
//! machine code each. hangup sorts a few short lists (scenario errors by
//! place, probe outcomes by count, resolved addresses, probe times), none
//! on a request's path, and six copies came to 37 KiB of a static binary
//! that aims at 1 MiB. Here the sort runs once, on indices through a
//! `&dyn Fn`, and only moving the elements into that order is generic.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in the order they came:
/// what `items.sort_by(compare)` does.
pub fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_order(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// Sorts `items` by the key `key` gives, keeping items with equal keys in
/// the order they came: what `items.sort_by_key(key)` does.
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// The indices `0..len` in the order `compare` puts them, equal ones in
/// their first order. Not generic, so the standard sort is compiled once.
#[inline(never)]
fn sorted_order(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_the_standard_stable_sort_does() {
        let mut pairs: Vec<(u8, usize)> = [3u8, 1, 3, 0, 1, 2, 3, 0, 9, 1].iter().copied().zip(0..).collect();
        let mut expected = pairs.clone();
        expected.sort_by_key(|p| p.0);
        sort_by_key(&mut pairs, |p| p.0);
        assert_eq!(pairs, expected);
    }

    #[test]
    fn sorts_floats_by_total_order() {
        let mut times = vec![2.5, -0.0, 0.0, 1.0, f64::INFINITY, 0.5];
        sort_by(&mut times, f64::total_cmp);
        assert_eq!(
            times.iter().map(|t| t.to_bits()).collect::<Vec<_>>(),
            [-0.0f64, 0.0, 0.5, 1.0, 2.5, f64::INFINITY]
                .iter()
                .map(|t| t.to_bits())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn an_empty_list_and_one_item_stay_as_they_are() {
        let mut none: Vec<String> = Vec::new();
        sort_by(&mut none, String::cmp);
        assert!(none.is_empty());
        let mut one = vec!["only".to_string()];
        sort_by(&mut one, String::cmp);
        assert_eq!(one, ["only"]);
    }
}
