//! Weighted choice among a TrafficSplit's backends. Weights are relative; a weight of 0
//! is never chosen, exactly (design §2), because the draw falls in `[0, total)` and a
//! zero-weight backend owns an empty interval of it.

use rand::Rng;

#[derive(Debug, Clone)]
pub struct WeightedChoice {
    /// Running sums of the weights: backend `i` owns `[cumulative[i-1], cumulative[i])`.
    cumulative: Vec<u64>,
    total: u64,
}

impl WeightedChoice {
    /// `None` when no weight is positive (no backend could ever be chosen).
    pub fn new(weights: impl IntoIterator<Item = u32>) -> Option<Self> {
        let mut total = 0u64;
        let cumulative: Vec<u64> = weights
            .into_iter()
            .map(|weight| {
                total += u64::from(weight);
                total
            })
            .collect();
        (total > 0).then_some(Self { cumulative, total })
    }

    /// A backend index drawn with probability weight / total.
    pub fn pick(&self) -> usize {
        self.index_for(rand::rng().random_range(0..self.total))
    }

    fn index_for(&self, draw: u64) -> usize {
        self.cumulative.partition_point(|&sum| sum <= draw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every draw, so the assertions are exact rather than statistical.
    fn counts(weights: &[u32]) -> Vec<u64> {
        let choice = WeightedChoice::new(weights.iter().copied()).unwrap();
        let mut counts = vec![0; weights.len()];
        for draw in 0..choice.total {
            counts[choice.index_for(draw)] += 1;
        }
        counts
    }

    #[test]
    fn every_backend_gets_exactly_its_weight_of_the_draws() {
        assert_eq!(counts(&[90, 10]), [90, 10]);
        assert_eq!(counts(&[1, 2, 3]), [1, 2, 3]);
    }

    #[test]
    fn weight_zero_is_never_chosen_wherever_it_stands() {
        assert_eq!(counts(&[1, 0]), [1, 0]);
        assert_eq!(counts(&[0, 1]), [0, 1]);
        assert_eq!(counts(&[0, 5, 0, 5, 0]), [0, 5, 0, 5, 0]);
    }

    #[test]
    fn all_zero_weights_are_no_choice_at_all() {
        assert!(WeightedChoice::new([0, 0]).is_none());
        assert!(WeightedChoice::new([]).is_none());
    }

    #[test]
    fn random_picks_stay_in_range_and_skip_zero() {
        let choice = WeightedChoice::new([0, 3, 0]).unwrap();
        for _ in 0..1000 {
            assert_eq!(choice.pick(), 1);
        }
    }
}
