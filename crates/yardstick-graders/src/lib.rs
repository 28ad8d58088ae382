//! Grader trait and the rule-based graders
