//! Domain types of yardstick and the index formulas.
//!
//! Everything here is pure: values in, values out. Every other crate speaks in
//! these types, so changing one is a change of the project's contract.

mod chat;
mod dimension;
mod grade;
mod item;
mod judge;
mod model;
pub mod scoring;

pub use chat::{ChatRequest, ChatResponse, ErrorClass, Message, ProviderError, Role, Usage};
pub use dimension::Dimension;
pub use grade::{Check, Grade};
pub use item::{
    numbered_paragraphs, CodeLanguage, Fabrication, FactRule, GraderSpec, GroundingWeights, Item,
    JsonFieldCheck, KeywordRule, NumberPick, NumberRule, PredictionCombine, RankingRule, RegexRule,
    TableRule,
};
pub use judge::{Anchor, CalibrationEntry, Criterion, JudgedPart, Rubric};
pub use model::{ModelSpec, ProviderKind};
