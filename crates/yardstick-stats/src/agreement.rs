//! Agreement between raters: Krippendorff's α with the interval metric,
//! used for the judge panel (raters = judges, units = judged answers and
//! criteria).
//!
//! α = 1 − D_o / D_e, where D_o is the mean squared difference between
//! values of the same unit and D_e the mean squared difference between any
//! two values, both over the pairable values only (units with at least two
//! values). Σ over ordered pairs of (x_i − x_j)² equals 2m Σ (x − mean)², so
//! both are computed in linear time.

/// α (interval) of `units`, each the values the raters gave one unit
/// (missing ratings simply absent). `None` when fewer than two pairable
/// values exist or the pairable values do not vary (D_e = 0: agreement is
/// then undefined, not perfect).
pub fn krippendorff_alpha_interval(units: &[Vec<f64>]) -> Option<f64> {
    let pairable: Vec<&Vec<f64>> = units.iter().filter(|u| u.len() >= 2).collect();
    let n: usize = pairable.iter().map(|u| u.len()).sum();
    if n < 2 {
        return None;
    }
    let n = n as f64;
    let observed: f64 = pairable
        .iter()
        .map(|u| ordered_pair_squares(u) / (u.len() as f64 - 1.0))
        .sum::<f64>()
        / n;
    let all: Vec<f64> = pairable.iter().flat_map(|u| u.iter().copied()).collect();
    let expected = ordered_pair_squares(&all) / (n * (n - 1.0));
    if expected <= 0.0 {
        return None;
    }
    Some(1.0 - observed / expected)
}

/// Σ over ordered pairs i ≠ j of (x_i − x_j)², as 2m Σ (x − mean)².
fn ordered_pair_squares(values: &[f64]) -> f64 {
    let m = values.len() as f64;
    let mean = values.iter().sum::<f64>() / m;
    2.0 * m * values.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hand_computed_example() {
        // Units (1, 2), (3, 3), (2, 4); n = 6.
        // D_o = [(1+1)/1 + 0 + (4+4)/1] / 6 = 10/6.
        // All values 1, 2, 3, 3, 2, 4: Σ_{i<j} (x_i − x_j)² = 33, so over
        // ordered pairs 66, and D_e = 66 / (6·5) = 2.2.
        // α = 1 − (10/6)/2.2 = 1 − 25/33 = 8/33.
        let units = vec![vec![1.0, 2.0], vec![3.0, 3.0], vec![2.0, 4.0]];
        let alpha = krippendorff_alpha_interval(&units).unwrap();
        assert!((alpha - 8.0 / 33.0).abs() < 1e-12, "{alpha}");
        // A unit with one value is not pairable and changes nothing.
        let mut with_single = units.clone();
        with_single.push(vec![5.0]);
        assert_eq!(krippendorff_alpha_interval(&with_single), Some(alpha));
    }

    #[test]
    fn krippendorffs_published_example() {
        // Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011):
        // four observers, twelve units, missing values; interval α = 0.849.
        let units: Vec<Vec<f64>> = [
            &[1., 1., 1.][..],
            &[2., 2., 3., 2.],
            &[3., 3., 3., 3.],
            &[3., 3., 3., 3.],
            &[2., 2., 2., 2.],
            &[1., 2., 3., 4.],
            &[4., 4., 4., 4.],
            &[1., 1., 2., 1.],
            &[2., 2., 2., 2.],
            &[5., 5., 5.],
            &[1., 1.],
            &[3.],
        ]
        .iter()
        .map(|u| u.to_vec())
        .collect();
        let alpha = krippendorff_alpha_interval(&units).unwrap();
        assert!((alpha - 0.849).abs() < 0.0005, "{alpha}");
    }

    #[test]
    fn perfect_agreement_is_one_and_no_variation_is_undefined() {
        let agree = vec![vec![1.0, 1.0], vec![4.0, 4.0, 4.0]];
        assert_eq!(krippendorff_alpha_interval(&agree), Some(1.0));
        assert_eq!(
            krippendorff_alpha_interval(&[vec![3.0, 3.0], vec![3.0, 3.0]]),
            None
        );
        assert_eq!(krippendorff_alpha_interval(&[vec![3.0]]), None);
        assert_eq!(krippendorff_alpha_interval(&[]), None);
        // Systematic disagreement is below zero.
        let opposed = vec![vec![0.0, 5.0], vec![5.0, 0.0]];
        assert!(krippendorff_alpha_interval(&opposed).unwrap() < 0.0);
    }
}
