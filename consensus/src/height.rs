//! Heights (one per decided block) and rounds (attempts within a height).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A block height; the first block after genesis is height 1.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Height(pub u64);

/// A round within a height; every height starts at round 0.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Round(pub u32);

impl Height {
    /// The next height.
    pub fn next(self) -> Height {
        Height(self.0 + 1)
    }
}

impl Round {
    /// The next round.
    pub fn next(self) -> Round {
        Round(self.0 + 1)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
