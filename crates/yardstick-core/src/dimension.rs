use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The five dimensions of the index (SPEC §1). The serialized names are the ids
/// used in bank files, the database and the JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    CodeExecution,
    Grounding,
    Judgment,
    Communication,
    Integrity,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::CodeExecution,
        Dimension::Grounding,
        Dimension::Judgment,
        Dimension::Communication,
        Dimension::Integrity,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Dimension::CodeExecution => "code_execution",
            Dimension::Grounding => "grounding",
            Dimension::Judgment => "judgment",
            Dimension::Communication => "communication",
            Dimension::Integrity => "integrity",
        }
    }

    /// The name shown to readers (grounding is published as "material constraint").
    pub fn display_name(self) -> &'static str {
        match self {
            Dimension::CodeExecution => "code execution",
            Dimension::Grounding => "material constraint",
            Dimension::Judgment => "engineering judgment",
            Dimension::Communication => "task expression",
            Dimension::Integrity => "integrity",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown dimension `{0}` (expected one of: code_execution, grounding, judgment, communication, integrity)")]
pub struct UnknownDimension(pub String);

impl FromStr for Dimension {
    type Err = UnknownDimension;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dimension::ALL
            .into_iter()
            .find(|d| d.id() == s)
            .ok_or_else(|| UnknownDimension(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_from_str_and_serde() {
        for d in Dimension::ALL {
            assert_eq!(d.id().parse::<Dimension>().unwrap(), d);
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.id()));
        }
        assert!("coding".parse::<Dimension>().is_err());
    }
}
