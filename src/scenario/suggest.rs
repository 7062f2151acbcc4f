//! "Did you mean …?": the nearest of some known names to a mistyped one.
//!
//! Distance is the optimal string alignment distance (Levenshtein, plus a
//! swap of two neighbours as one edit, so `reste` is one edit from `reset`).
//! A name is only offered when it is close: at most a third of the typed
//! word's length in edits (at least one), as rustc does, so that `jump`
//! gets no guess while `wrte` gets `write`.

/// The candidate nearest to `typed`, if one is close enough; on a tie, the
/// first in `candidates`.
pub fn nearest<'c>(typed: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let typed_len = typed.chars().count();
    let most = (typed_len.max(3) / 3).max(1);
    let mut best: Option<(usize, &'c str)> = None;
    for candidate in candidates {
        if candidate == typed {
            continue;
        }
        // Lengths that differ by more than `most` cannot be close: skip the table.
        if candidate.chars().count().abs_diff(typed_len) > most {
            continue;
        }
        let distance = distance(typed, candidate);
        if distance <= most && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Edits (insert, delete, replace, swap two neighbours) from `a` to `b`.
/// The words compared are short (a keyword, a scenario's name); a long
/// typed word is compared only with candidates of about its length.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two back (for swaps), the last, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let replace = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + replace);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            row[j] = best;
        }
        before = std::mem::replace(&mut last, row);
    }
    last[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_count_swaps_as_one() {
        assert_eq!(distance("reste", "reset"), 1);
        assert_eq!(distance("wrte", "write"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn only_close_names_are_offered() {
        let statements = ["read", "write", "reset", "respond", "relay"];
        assert_eq!(nearest("wrte", statements), Some("write"));
        assert_eq!(nearest("reste", statements), Some("reset"));
        assert_eq!(nearest("jump", statements), None);
        assert_eq!(nearest("x", statements), None);
        assert_eq!(
            nearest("mid-body-rest", ["mid-body-reset", "hello"]),
            Some("mid-body-reset")
        );
        // The same word is not a suggestion for itself.
        assert_eq!(nearest("read", ["read"]), None);
    }
}
