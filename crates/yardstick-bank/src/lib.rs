//! Question bank: TOML/JSONL files, validation with file:line errors, seeded draws
