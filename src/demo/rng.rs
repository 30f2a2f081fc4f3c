//! The one random generator of the demo: SplitMix64, seeded, so the demo is the same on every
//! run and every machine.
//!
//! Streams are drawn from it, each with its own seed: [`Rng::geography`] shapes the world
//! (urban areas, productive areas, parks, Natura 2000 sites, agricultural land), and
//! [`Rng::rows`] places the features of the layers in catalogue order (services near towns,
//! agri-food sites, projects) and draws their attributes. Keeping the streams apart means a new
//! layer's rows cannot move the geography; the order in which layers draw from [`Rng::rows`] is
//! the catalogue order, so a layer added at the end changes no earlier layer.
//! [`Rng::monitoring`] is one small stream per project, for its path through the monitoring
//! rounds: seeded by the project's number alone, so the path can be drawn again from the
//! project's row when the history file is written.

/// The seed of every random choice.
pub const SEED: u64 = 20_070_719;

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The stream that shapes the world.
    pub fn geography() -> Rng {
        Rng(SEED)
    }

    /// The stream that makes the rows of the layers, in catalogue order.
    pub fn rows() -> Rng {
        Rng(SEED ^ 0x5EED)
    }

    /// The stream of project `index`'s monitoring path (see [`super::history`]).
    pub fn monitoring(index: u64) -> Rng {
        // Seeds a multiple of the SplitMix increment apart would give shifted copies of one
        // stream: spread the index with another odd constant.
        Rng(SEED ^ 0x4D4F_4E49_544F_5200 ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// An integer in lo..=hi.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // SplitMix64 from seed 0 (Steele, Lea and Flood 2014; the reference C code by Vigna):
        // the first outputs are 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4.
        let mut r = Rng(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::rows();
        for _ in 0..1000 {
            let x = r.range(-2.0, 3.0);
            assert!((-2.0..3.0).contains(&x));
            let i = r.int(1, 6);
            assert!((1..=6).contains(&i));
        }
    }
}
