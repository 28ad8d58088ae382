//! The grounding ("material constraint") grader: is the answer inside the
//! material the item shows the model?
//!
//! Every rule below is a plain text rule, so a reader can redo each verdict
//! by hand from the stored material and answer:
//!
//! * **Quotes.** A quoted span is text in straight (`"…"`), curly (`“…”`) or
//!   low (`„…“`) double quotes, or a block of `>` lines. Spans of fewer than
//!   four words are terms, not quotations, and are listed without being
//!   checked. Both sides are normalised — lower case, curly quotes and
//!   apostrophes made straight, dashes made `-`, `*` emphasis dropped,
//!   whitespace collapsed, the quote's outer punctuation trimmed — and the
//!   quote must then be a substring of the material. An ellipsis (`...`, `…`,
//!   `[...]`) splits a quote into parts that must occur in order.
//! * **Citations.** `[P3]`, `[P3, P5]`, `P3`, `¶3`, `paragraph 3`,
//!   `paragraphs 3 and 5`, `paragraphs 3–5` (a list stops before a number
//!   glued to `,400` or `.5`: "paragraph 4, 6,400 homes" cites P4 only).
//!   Citations are grouped by the sentence they sit in (a sentence that is
//!   only a citation belongs to the sentence before it). Each citing sentence is one check: every cited
//!   paragraph must exist, the sentence must share at least
//!   `min(2, its key terms)` key terms with the cited paragraphs, and every
//!   number in the sentence must occur in them or in `allow_numbers` (a
//!   result the question asks the answer to compute). Key terms are words of four
//!   letters or more outside a stop list, cut to their first six letters
//!   (a crude stem: `households` ~ `househ`), plus numbers. A bare citation
//!   (a sentence with no key terms, such as the answer `[P5]`) is checked
//!   for existence only.
//! * **Numbers.** Every number in the answer (paragraph ids excluded) must
//!   occur in the material, the prompt or `allow_numbers`. `1,800` = `1800`,
//!   `18.9%` = `18.9`; number words of the material (`eleven`) and scaled
//!   forms (`38.2 million` = `38200000`) count. An ISO date `2023-07-17`
//!   passes when its year and day occur in the material and its month is
//!   named there. Digits glued to letters (`1st`, `H2O`) are not numbers.
//! * **Facts.** `required` / `forbidden` rules: keywords (whole words,
//!   case-insensitive), a number within a tolerance (written with digits
//!   or as a word: `seven`), or a regex.
//! * **Unsupported questions.** The answer must say the material does not
//!   contain the answer (a decline pattern), and the number check runs even
//!   when switched off, so an invented figure still fails.
//!
//! Each group's weight (see `GroundingWeights`) is shared equally by its
//! checks; a group with nothing to check is recorded with weight 0.

use crate::common::{clip, compile_all, first_hit, same_number, weighted};
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;
use yardstick_core::{numbered_paragraphs, Check, FactRule, GraderSpec, GroundingWeights, Item};

pub(crate) const VERSION: &str = "2";

/// The built-in ways of saying "the material does not contain it".
pub const GROUNDING_DECLINES: &[&str] = &[
    r"(?i)\bnot (?:explicitly |directly |clearly )?(?:stated|mentioned|given|specified|included|provided|covered|reported|disclosed|listed|addressed|discussed)\b",
    r"(?i)\b(?:does|do|did)(?:n[’']t| not) (?:say|state|mention|specify|give|include|provide|contain|cover|report|disclose|address|list|discuss)\b",
    r"(?i)\bnot (?:in|found in|part of|covered by|contained in|available in) (?:the |this )?(?:document|material|text|report|source|passage|conditions|article|context|provided)",
    r"(?i)\bno (?:information|mention|data|details?|figures?|record|indication)\b",
    r"(?i)\b(?:cannot|can[’']t|can not|unable to|impossible to|not possible to) (?:be )?(?:answer|determine|tell|find|say|know|infer|deduce|establish)",
    r"(?i)\b(?:is|are|was|were)(?:n[’']t| not) (?:stated|mentioned|given|specified|included|provided|covered|reported|available|disclosed)\b",
    r"(?i)\bsilent (?:on|about)\b",
    r"(?i)\bnowhere (?:in|does)\b",
];

/// [`GROUNDING_DECLINES`], compiled once.
static BUILTIN_DECLINES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    GROUNDING_DECLINES
        .iter()
        .map(|p| Regex::new(p).expect("built-in decline patterns compile"))
        .collect()
});

/// Words too common to show that a sentence and a paragraph are about the
/// same thing (only words of four letters or more are considered at all).
#[rustfmt::skip]
const STOP: &[&str] = &[
    "about", "above", "according", "after", "again", "against", "also", "although", "among",
    "another", "answer", "because", "been", "before", "being", "below", "between", "both", "cent",
    "citation", "citations", "cited", "could", "document", "does", "doing", "down", "during",
    "each", "either", "else", "even", "ever", "every", "evidence", "from", "further", "have",
    "having", "here", "into", "itself", "just", "least", "less", "like", "made", "make", "many",
    "material", "more", "most", "much", "must", "neither", "never", "none", "note", "only",
    "other", "over", "paragraph", "paragraphs", "percent", "references", "report", "said", "same",
    "says", "shall", "should", "since", "some", "source", "sources", "state", "stated", "states",
    "such", "text", "than", "that", "their", "them", "then", "there", "these", "they", "this",
    "those", "though", "through", "thus", "under", "until", "upon", "very", "were", "what", "when",
    "where", "whether", "which", "while", "whom", "whose", "will", "with", "within", "without",
    "would", "your",
];

/// Number words of a material, so "eleven wells" supports an answer's "11".
const NUMBER_WORDS: &[(&str, f64)] = &[
    ("zero", 0.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
    ("hundred", 100.0),
    ("thousand", 1000.0),
    ("half", 0.5),
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Paragraph citations in an answer. The numbers of a match are its ids;
/// `-`, `–` and `to` between two ids make a range.
static CITATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\[\s*P\d+(?:\s*(?:,|;|-|–|and)\s*P?\d+)*\s*\]",
        r"|\bP\d+(?:\s*(?:-|–)\s*P\d+)?\b",
        r"|¶\s*\d+",
        r"|(?i:\b(?:paragraphs?|paras?\.?)\s+\d+(?:\s*(?:,|and|&|or|-|–|to)\s*\d+)*)",
    ))
    .expect("static regex")
});

static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("static regex"));

/// Unsigned numbers with optional thousands separators and decimals (a
/// hyphen between digits is a range or a date, not a minus sign).
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?").expect("static regex")
});

static SCALED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(thousand|million|billion)\b")
        .expect("static regex")
});

/// List enumerators (`1.`, `2)` at the start of a line): layout, not claims.
static ENUMERATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*\d{1,2}[.)][ \t]").expect("static regex"));

static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b").expect("static regex"));

static STRAIGHT_QUOTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""([^"\n]+)""#).expect("static regex"));
static CURLY_QUOTE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[“„]([^“”„\n]+)[”“]").expect("static regex"));

static ELLIPSIS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[\s*(?:\.\.\.|…)\s*\]|\.\.\.|…").expect("static regex"));

static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\p{L}]+").expect("static regex"));

type Outcome = (Vec<Check>, Option<String>);

/// The parts of a grounding spec the checks read.
struct Rules<'s> {
    quotes: bool,
    citations: bool,
    numbers: bool,
    require_citation: bool,
    required: &'s [FactRule],
    forbidden: &'s [FactRule],
    unsupported: bool,
    allow_numbers: &'s [f64],
    decline_patterns: Option<&'s [String]>,
    weights: GroundingWeights,
}

pub(crate) fn grade(item: &Item, answer: &str) -> Result<Outcome, String> {
    let GraderSpec::Grounding {
        quotes,
        citations,
        numbers,
        require_citation,
        required,
        forbidden,
        unsupported,
        allow_numbers,
        decline_patterns,
        weights,
    } = &item.grader
    else {
        return Err("not a grounding grader".into());
    };
    let material = item
        .materials
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .ok_or("a grounding item needs materials to check the answer against")?;
    let rules = Rules {
        quotes: *quotes,
        citations: *citations,
        numbers: *numbers,
        require_citation: *require_citation,
        required,
        forbidden,
        unsupported: *unsupported,
        allow_numbers,
        decline_patterns: decline_patterns.as_deref(),
        weights: *weights,
    };
    checklist(&rules, material, &item.prompt, answer)
}

fn checklist(rules: &Rules, material: &str, prompt: &str, answer: &str) -> Result<Outcome, String> {
    let w = rules.weights;
    let paragraphs = numbered_paragraphs(material);
    let cites = citations_in(answer);
    // The answer with its citations and list enumerators blanked out, so
    // `P5` and `5.` are not the number 5 (byte offsets stay those of the answer).
    let plain = blank(
        answer,
        cites
            .iter()
            .map(|c| (c.start, c.end))
            .chain(ENUMERATOR.find_iter(answer).map(|m| (m.start(), m.end()))),
    );
    let quotes = quotes_in(answer);
    let (long, short): (Vec<&Quote>, Vec<&Quote>) = quotes
        .iter()
        .partition(|q| q.text.split_whitespace().count() >= 4);

    let mut checks = Vec::new();
    let mut summary = Vec::new();

    if rules.quotes {
        let norm_material = normalise(material);
        let share = if long.is_empty() {
            0.0
        } else {
            w.quotes / long.len() as f64
        };
        if long.is_empty() {
            checks.push(weighted(
                "quotes",
                true,
                0.0,
                "no quotation of four words or more to verify",
            ));
        }
        for q in &long {
            let (ok, detail) = quote_found(&q.text, &norm_material, &paragraphs);
            checks.push(weighted(
                format!("quote “{}”", clip(&q.text, 48)),
                ok,
                share,
                detail,
            ));
        }
        if !short.is_empty() {
            let listed: Vec<String> = short.iter().map(|q| format!("{:?}", q.text)).collect();
            checks.push(weighted(
                "short quotes",
                true,
                0.0,
                format!(
                    "not checked (fewer than four words, treated as terms): {}",
                    listed.join(", ")
                ),
            ));
        }
        summary.push(format!("{} quote(s)", long.len()));
    }

    if rules.citations {
        let groups = citing_sentences(answer, &plain, &cites);
        let share = if groups.is_empty() {
            0.0
        } else {
            w.citations / groups.len() as f64
        };
        if groups.is_empty() {
            checks.push(weighted("citations", true, 0.0, "no paragraph cited"));
        }
        for g in &groups {
            let (ok, detail) = citation_fits(g, &paragraphs, rules.allow_numbers);
            let ids: Vec<String> = g.ids.iter().map(|i| format!("P{i}")).collect();
            checks.push(weighted(
                format!("citation {}", ids.join(", ")),
                ok,
                share,
                detail,
            ));
        }
        let all: BTreeSet<u32> = cites.iter().flat_map(|c| c.ids.iter().copied()).collect();
        if !all.is_empty() {
            let ids: Vec<String> = all.iter().map(|i| format!("P{i}")).collect();
            summary.push(format!("cited {}", ids.join(" ")));
        }
    }

    if rules.require_citation {
        let present = !cites.is_empty() || !long.is_empty();
        checks.push(weighted(
            "cites the material",
            present,
            w.citation_present,
            if present {
                format!(
                    "{} paragraph citation(s), {} quotation(s)",
                    cites.len(),
                    long.len()
                )
            } else {
                "neither a paragraph id nor a quotation of four words or more".to_string()
            },
        ));
    }

    let share = |n: usize, weight: f64| if n == 0 { 0.0 } else { weight / n as f64 };
    for rule in rules.required {
        let (hit, detail) = fact_in(rule, answer, &plain)?;
        checks.push(weighted(
            format!("required: {}", rule.describe()),
            hit,
            share(rules.required.len(), w.required),
            detail,
        ));
    }
    for rule in rules.forbidden {
        let (hit, detail) = fact_in(rule, answer, &plain)?;
        checks.push(weighted(
            format!("forbidden: {}", rule.describe()),
            !hit,
            share(rules.forbidden.len(), w.forbidden),
            detail,
        ));
    }

    if rules.numbers || rules.unsupported {
        let (outside, checked) = outside_numbers(&plain, material, prompt, rules.allow_numbers);
        let detail = if outside.is_empty() {
            format!("all {checked} number(s) of the answer occur in the material or the prompt")
        } else {
            format!("not in the material or the prompt: {}", outside.join(", "))
        };
        checks.push(weighted(
            "no numbers from outside the material",
            outside.is_empty(),
            w.numbers,
            detail,
        ));
    }

    if rules.unsupported {
        let patterns = match rules.decline_patterns {
            Some(own) => compile_all(own, false)?,
            None => BUILTIN_DECLINES.clone(),
        };
        let hit = first_hit(&patterns, answer);
        checks.push(weighted(
            "says the material does not contain it",
            hit.is_some(),
            w.decline,
            match &hit {
                Some((p, m)) => format!("{m:?} matches /{p}/"),
                None => "no decline pattern matches; the material does not answer this question"
                    .to_string(),
            },
        ));
    }

    Ok((checks, Some(summary.join("; ")).filter(|s| !s.is_empty())))
}

/// A quoted span of the answer.
struct Quote {
    text: String,
}

/// Quoted spans: `>` blocks first, then inline quotes outside them.
fn quotes_in(answer: &str) -> Vec<Quote> {
    let mut out = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let mut rest = String::new();
    let flush = |block: &mut Vec<&str>, out: &mut Vec<Quote>| {
        if !block.is_empty() {
            let text = block.join(" ");
            let text = text
                .trim()
                .trim_matches(|c| matches!(c, '"' | '“' | '”' | '„'))
                .trim()
                .to_string();
            if !text.is_empty() {
                out.push(Quote { text });
            }
            block.clear();
        }
    };
    for line in answer.lines() {
        match line.trim_start().strip_prefix('>') {
            Some(body) => block.push(body.trim()),
            None => {
                flush(&mut block, &mut out);
                rest.push_str(line);
                rest.push('\n');
            }
        }
    }
    flush(&mut block, &mut out);
    for re in [&*STRAIGHT_QUOTE, &*CURLY_QUOTE] {
        for c in re.captures_iter(&rest) {
            let text = c[1].trim().to_string();
            if !text.is_empty() {
                out.push(Quote { text });
            }
        }
    }
    out
}

/// Lower case, straight quotes, `-` dashes, no `*`, single spaces.
fn normalise(text: &str) -> String {
    let mapped: String = text
        .chars()
        .filter(|c| *c != '*')
        .map(|c| match c {
            '‘' | '’' | '‚' | '‛' | '`' | '´' => '\'',
            '“' | '”' | '„' | '‟' | '«' | '»' => '"',
            '–' | '—' | '‒' | '−' => '-',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trims the punctuation a quotation carries at its edges.
fn trim_edges(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'')
    })
}

/// Whether a quote occurs in the (normalised) material, with where, or how
/// far it matched.
fn quote_found(quote: &str, material: &str, paragraphs: &[(u32, &str)]) -> (bool, String) {
    let norm = normalise(quote);
    let parts: Vec<&str> = ELLIPSIS
        .split(&norm)
        .map(trim_edges)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return (false, "the quotation has no words to look up".to_string());
    }
    let mut from = 0;
    for part in &parts {
        match material[from..].find(part) {
            Some(at) => from += at + part.len(),
            None => {
                let words: Vec<&str> = part.split(' ').collect();
                let matched = (1..=words.len())
                    .take_while(|&k| material.contains(&words[..k].join(" ")))
                    .last()
                    .unwrap_or(0);
                return (
                    false,
                    format!(
                        "not in the material (after normalising case, quotes, dashes and spaces); its first {matched} of {} words match: {:?}",
                        words.len(),
                        clip(&words[..matched].join(" "), 80)
                    ),
                );
            }
        }
    }
    let first = parts.first().copied().unwrap_or("");
    let place = paragraphs
        .iter()
        .find(|(_, text)| normalise(text).contains(first))
        .map_or(String::new(), |(n, _)| format!(" (P{n})"));
    let how = if parts.len() > 1 {
        format!(
            "all {} parts around the ellipsis occur in order",
            parts.len()
        )
    } else {
        "occurs verbatim after normalisation".to_string()
    };
    (true, format!("{how}{place}"))
}

/// One citation in the answer: its byte span and the paragraph ids it names.
struct Citation {
    start: usize,
    end: usize,
    ids: Vec<u32>,
}

fn citations_in(answer: &str) -> Vec<Citation> {
    CITATION
        .find_iter(answer)
        .map(|m| {
            let mut end = m.end();
            // "paragraph 4, 6,400 households": an id glued to `,400` or `.5`
            // is the start of a figure, so the list stops before it.
            let glued_to_figure = |at: usize| {
                let mut rest = answer[at..].chars();
                matches!(rest.next(), Some(',' | '.'))
                    && rest.next().is_some_and(|c| c.is_ascii_digit())
            };
            if let Some(d) = DIGITS
                .find_iter(m.as_str())
                .skip(1)
                .find(|d| glued_to_figure(m.start() + d.end()))
            {
                let before =
                    m.as_str()[..d.start()].trim_end_matches(|c: char| !c.is_ascii_digit());
                end = m.start() + before.len();
            }
            let text = &answer[m.start()..end];
            let nums: Vec<(usize, usize, u32)> = DIGITS
                .find_iter(text)
                .filter_map(|d| Some((d.start(), d.end(), d.as_str().parse().ok()?)))
                .collect();
            let mut ids = Vec::new();
            for (i, &(_, _, n)) in nums.iter().enumerate() {
                let ranged = i > 0 && {
                    let between = &text[nums[i - 1].1..nums[i].0];
                    between.contains(['-', '–']) || between.contains("to")
                };
                if ranged {
                    let lo = nums[i - 1].2;
                    // Ranges longer than 50 paragraphs are typos, not citations.
                    if n > lo && n - lo <= 50 {
                        ids.extend(lo + 1..=n);
                        continue;
                    }
                }
                ids.push(n);
            }
            ids.dedup();
            Citation {
                start: m.start(),
                end,
                ids,
            }
        })
        .collect()
}

/// `text` with the given byte spans replaced by spaces (offsets stay valid).
fn blank(text: &str, spans: impl Iterator<Item = (usize, usize)>) -> String {
    let mut out = text.to_string();
    for (s, e) in spans {
        out.replace_range(s..e, &" ".repeat(e - s));
    }
    out
}

/// A sentence of the answer that cites paragraphs.
struct CitingSentence {
    /// The sentence with its citations blanked.
    text: String,
    ids: BTreeSet<u32>,
    /// The citation stood alone and was attached to the sentence before it.
    borrowed: bool,
}

/// Byte spans of sentences: a sentence ends after `.`, `!` or `?` followed
/// by whitespace, or at a line break.
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        if c == '\n' || (matches!(c, '.' | '!' | '?') && next_space) {
            let end = i + c.len_utf8();
            if text[start..end].trim().is_empty() {
                start = end;
                continue;
            }
            spans.push((start, end));
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        spans.push((start, text.len()));
    }
    spans
}

/// Groups citations by the sentence of `answer` they sit in; the sentence
/// text is taken from `blanked` (the answer with citations and enumerators
/// blanked, same offsets) so that ids are not read as claims.
fn citing_sentences(answer: &str, blanked: &str, cites: &[Citation]) -> Vec<CitingSentence> {
    let spans = sentences(answer);
    let mut groups: Vec<(usize, CitingSentence)> = Vec::new();
    for c in cites {
        let Some(mut idx) = spans.iter().position(|&(s, e)| c.start >= s && c.start < e) else {
            continue;
        };
        let mut borrowed = false;
        let own = &blanked[spans[idx].0..spans[idx].1];
        if key_terms(own).is_empty() && idx > 0 {
            idx -= 1;
            borrowed = true;
        }
        match groups.iter_mut().find(|(i, _)| *i == idx) {
            Some((_, g)) => g.ids.extend(c.ids.iter().copied()),
            None => groups.push((
                idx,
                CitingSentence {
                    text: blanked[spans[idx].0..spans[idx].1].trim().to_string(),
                    ids: c.ids.iter().copied().collect(),
                    borrowed,
                },
            )),
        }
    }
    groups.sort_by_key(|(i, _)| *i);
    groups.into_iter().map(|(_, g)| g).collect()
}

/// Key terms: stems of content words (first six letters of words of four
/// letters or more outside the stop list) and numbers (as `n:<value>`). An
/// ISO date counts as its day, month name and year, as a material writes it.
fn key_terms(text: &str) -> BTreeSet<String> {
    let text = ISO_DATE.replace_all(text, |c: &regex::Captures| {
        let month = c[2]
            .parse::<usize>()
            .ok()
            .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
            .copied()
            .unwrap_or("");
        format!("{} {month} {}", &c[3], &c[1])
    });
    let text = text.as_ref();
    let lower = text.to_lowercase();
    let mut terms: BTreeSet<String> = WORD
        .find_iter(&lower)
        .map(|m| m.as_str())
        .filter(|w| w.chars().count() >= 4 && !STOP.contains(w))
        .map(|w| w.chars().take(6).collect())
        .collect();
    terms.extend(numbers_of(text).into_iter().map(|v| format!("n:{v}")));
    terms
}

/// `allow` numbers (results the answer is expected to compute) may stand
/// next to a citation without occurring in the cited paragraph.
fn citation_fits(g: &CitingSentence, paragraphs: &[(u32, &str)], allow: &[f64]) -> (bool, String) {
    let missing: Vec<String> = g
        .ids
        .iter()
        .filter(|id| !paragraphs.iter().any(|(n, _)| n == *id))
        .map(|id| format!("P{id}"))
        .collect();
    if !missing.is_empty() {
        let range = match (paragraphs.first(), paragraphs.last()) {
            (Some(a), Some(b)) => format!("the material has P{}–P{}", a.0, b.0),
            _ => "the material has no numbered paragraphs".to_string(),
        };
        return (
            false,
            format!("{} does not exist; {range}", missing.join(", ")),
        );
    }
    let sentence_terms = key_terms(&g.text);
    let where_ = if g.borrowed {
        " (the citation stands alone, so the sentence before it is checked)"
    } else {
        ""
    };
    if sentence_terms.is_empty() {
        return (
            true,
            "bare citation: the paragraph exists; no claim to compare".into(),
        );
    }
    let cited_text: String = paragraphs
        .iter()
        .filter(|(n, _)| g.ids.contains(n))
        .map(|(_, t)| *t)
        .collect::<Vec<_>>()
        .join("\n");
    let para_terms = key_terms(&cited_text);
    let shared: Vec<&String> = sentence_terms.intersection(&para_terms).collect();
    let need = sentence_terms.len().min(2);
    let foreign_numbers: Vec<&String> = sentence_terms
        .iter()
        .filter(|t| t.starts_with("n:") && !para_terms.contains(*t))
        .filter(|t| {
            let value = t.trim_start_matches("n:").parse::<f64>();
            !value.is_ok_and(|v| allow.iter().any(|a| same_number(*a, v)))
        })
        .collect();
    let ok = shared.len() >= need && foreign_numbers.is_empty();
    let mut detail = format!(
        "{:?}{where_} shares {} of {} key terms with the cited text (needs {need}): {}",
        clip(&g.text, 100),
        shared.len(),
        sentence_terms.len(),
        shared
            .iter()
            .map(|s| s.trim_start_matches("n:"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !foreign_numbers.is_empty() {
        detail.push_str(&format!(
            "; numbers not in the cited paragraph(s): {}",
            foreign_numbers
                .iter()
                .map(|s| s.trim_start_matches("n:"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    (ok, detail)
}

/// Numbers written with digits, skipping digits glued to letters.
fn numbers_of(text: &str) -> Vec<f64> {
    NUMBER
        .find_iter(text)
        .filter(|m| {
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            !before.is_some_and(|c| c.is_alphabetic() || c == '_')
                && !after.is_some_and(|c| c.is_alphabetic() || c == '_')
        })
        .filter_map(|m| m.as_str().replace(',', "").parse().ok())
        .collect()
}

/// Numbers written with digits or as words (`seven`).
fn numbers_and_number_words(text: &str) -> Vec<f64> {
    let mut out = numbers_of(text);
    let lower = text.to_lowercase();
    for w in WORD.find_iter(&lower) {
        if let Some((_, v)) = NUMBER_WORDS.iter().find(|(word, _)| *word == w.as_str()) {
            out.push(*v);
        }
    }
    out
}

/// Every number a material supports: its digits, its number words and its
/// scaled figures (`38.2 million`).
fn supported_numbers(material: &str) -> Vec<f64> {
    let mut out = numbers_and_number_words(material);
    for c in SCALED.captures_iter(material) {
        let Ok(v) = c[1].replace(',', "").parse::<f64>() else {
            continue;
        };
        let scale = match c[2].to_lowercase().as_str() {
            "thousand" => 1e3,
            "million" => 1e6,
            _ => 1e9,
        };
        out.push(v * scale);
    }
    out
}

/// The answer's numbers found in neither the material, the prompt nor the
/// allow-list, and how many numbers were checked.
fn outside_numbers(
    plain: &str,
    material: &str,
    prompt: &str,
    allow: &[f64],
) -> (Vec<String>, usize) {
    let mut known = supported_numbers(material);
    known.extend(numbers_of(prompt));
    known.extend_from_slice(allow);
    let has = |v: f64| known.iter().any(|k| same_number(*k, v));
    let lower = material.to_lowercase();
    let mut outside = Vec::new();
    let mut checked = 0;
    for c in ISO_DATE.captures_iter(plain) {
        checked += 1;
        let (y, m, d) = (
            c[1].parse::<f64>().unwrap_or(f64::NAN),
            c[2].parse::<usize>().unwrap_or(0),
            c[3].parse::<f64>().unwrap_or(f64::NAN),
        );
        let month_named = m
            .checked_sub(1)
            .and_then(|i| MONTHS.get(i))
            .is_some_and(|name| lower.contains(name));
        if !(has(y) && has(d) && month_named) {
            outside.push(format!("date {}", &c[0]));
        }
    }
    let rest = blank(
        plain,
        ISO_DATE.find_iter(plain).map(|m| (m.start(), m.end())),
    );
    let mut seen = BTreeSet::new();
    for m in NUMBER.find_iter(&rest) {
        let glued = rest[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            || rest[m.end()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_');
        let Ok(v) = m.as_str().replace(',', "").parse::<f64>() else {
            continue;
        };
        if glued {
            continue;
        }
        checked += 1;
        if !has(v) && seen.insert(m.as_str().to_string()) {
            outside.push(m.as_str().to_string());
        }
    }
    (outside, checked)
}

/// Whether a fact rule matches the answer, and what it saw.
fn fact_in(rule: &FactRule, answer: &str, plain: &str) -> Result<(bool, String), String> {
    Ok(match rule {
        FactRule::Keywords(k) => {
            let found: Vec<&String> = k
                .keywords
                .iter()
                .filter(|w| keyword_regex(w).is_match(answer))
                .collect();
            let hit = if k.any {
                !found.is_empty()
            } else {
                found.len() == k.keywords.len()
            };
            let missing: Vec<&String> = k.keywords.iter().filter(|w| !found.contains(w)).collect();
            let need = if k.any { "any" } else { "all" };
            (
                hit,
                format!(
                    "{need} of {:?}: found {found:?}, missing {missing:?}",
                    k.keywords
                ),
            )
        }
        FactRule::Number(n) => {
            let values = numbers_and_number_words(plain);
            let close = values
                .iter()
                .find(|v| (**v - n.number).abs() <= n.tolerance + 1e-9 * n.number.abs().max(1.0));
            (
                close.is_some(),
                match close {
                    Some(v) => format!("{v} is within {} of {}", n.tolerance, n.number),
                    None => format!(
                        "no number within {} of {}; the answer's numbers: {values:?}",
                        n.tolerance, n.number
                    ),
                },
            )
        }
        FactRule::Regex(r) => {
            let re = Regex::new(&r.regex)
                .map_err(|e| format!("regex {:?} does not compile: {e}", r.regex))?;
            match re.find(answer) {
                Some(m) => (true, format!("/{}/ matched {:?}", r.regex, m.as_str())),
                None => (false, format!("/{}/ does not match", r.regex)),
            }
        }
    })
}

/// A keyword or phrase as a case-insensitive whole word (word boundaries
/// only where the keyword itself starts or ends with a word character).
fn keyword_regex(word: &str) -> Regex {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let start = if edge(word.chars().next()) { r"\b" } else { "" };
    let end = if edge(word.chars().next_back()) {
        r"\b"
    } else {
        ""
    };
    let body = word
        .split_whitespace()
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join(r"\s+");
    Regex::new(&format!("(?i){start}{body}{end}")).expect("escaped keywords always compile")
}

#[cfg(test)]
mod tests {
    use super::*;
    use yardstick_core::{Dimension, KeywordRule, NumberRule, RegexRule};

    const DOC: &str = "# Velmora Water\n\n\
[P1] The Velmora Water Authority supplies drinking water to 412,000 residents in nine districts. \
It draws water from Brennick Reservoir, Ostle Lake and eleven groundwater wells at Cato Fields.\n\n\
[P2] The peak day of the year was 17 July 2023, when demand reached 142 megalitres.\n\n\
[P3] Non-revenue water fell from 21.4 per cent of production at the start of the year to 18.9 per cent at the end of it. \
The Authority attributes most of the improvement to 1,800 acoustic leak loggers.\n\n\
[P4] After a main burst on Pellow Road in the Dunmere district, about 6,400 households were advised to boil their water for three days.\n\n\
[P5] Staff costs were 38.2 million marks.";

    fn spec() -> GraderSpec {
        GraderSpec::Grounding {
            quotes: true,
            citations: true,
            numbers: true,
            require_citation: false,
            required: vec![],
            forbidden: vec![],
            unsupported: false,
            allow_numbers: vec![],
            decline_patterns: None,
            weights: GroundingWeights::default(),
        }
    }

    fn with(f: impl FnOnce(&mut GraderSpec)) -> GraderSpec {
        let mut s = spec();
        f(&mut s);
        s
    }

    fn item(grader: GraderSpec) -> Item {
        Item {
            materials: Some(DOC.into()),
            ..Item::new(
                "g",
                Dimension::Grounding,
                "Using only the report, what share of production was non-revenue water at the end of the year?",
                grader,
            )
        }
    }

    fn run(grader: GraderSpec, answer: &str) -> (f64, Vec<Check>) {
        let it = item(grader);
        let (checks, extracted) = grade(&it, answer).unwrap();
        let g = yardstick_core::Grade::from_checks("grounding", VERSION, checks, extracted);
        (g.score, g.checks)
    }

    fn check<'c>(checks: &'c [Check], prefix: &str) -> &'c Check {
        checks
            .iter()
            .find(|c| c.name.starts_with(prefix))
            .unwrap_or_else(|| panic!("no check {prefix:?} in {checks:#?}"))
    }

    fn nrw_required() -> GraderSpec {
        with(|s| {
            if let GraderSpec::Grounding { required, .. } = s {
                required.push(FactRule::Number(NumberRule {
                    number: 18.9,
                    tolerance: 0.05,
                    label: None,
                }));
            }
        })
    }

    #[test]
    fn a_faithful_answer_passes_every_check() {
        let answer = "It fell to 18.9% by the end of the year [P3]: \u{201c}fell from 21.4 per cent of production at the start of the year\u{201d}.";
        let (score, checks) = run(nrw_required(), answer);
        assert_eq!(score, 100.0, "{checks:#?}");
        assert!(check(&checks, "quote").passed);
        assert!(check(&checks, "quote").detail.contains("P3"));
        assert!(check(&checks, "citation P3").passed);
    }

    #[test]
    fn a_quote_not_in_the_material_loses_the_quote_check() {
        let answer =
            "18.9 per cent [P3]. The report says \"leakage was eliminated in every district\".";
        let (score, checks) = run(nrw_required(), answer);
        let q = check(&checks, "quote");
        assert!(!q.passed);
        assert!(q.detail.contains("first 0 of 6 words"), "{}", q.detail);
        assert!(score < 100.0);
        assert!(check(&checks, "required").passed);
    }

    #[test]
    fn quotes_survive_case_curly_quotes_dashes_and_ellipses() {
        let answer = "> The Authority attributes most of the improvement\n> to 1,800 acoustic leak loggers.\n\n\
“Non-revenue water fell from 21.4 per cent … to 18.9 per cent” [P3]";
        let (_, checks) = run(nrw_required(), answer);
        let quotes: Vec<&Check> = checks
            .iter()
            .filter(|c| c.name.starts_with("quote "))
            .collect();
        assert_eq!(quotes.len(), 2, "{checks:#?}");
        assert!(quotes.iter().all(|c| c.passed), "{quotes:#?}");
        // A "quotation" of nothing but ellipses cannot be verified.
        let (_, checks) = run(spec(), "\"... … ... …\"");
        assert!(!check(&checks, "quote").passed);
        // Ellipsis parts must appear in order.
        let (_, checks) = run(
            spec(),
            "\"to 18.9 per cent ... non-revenue water fell from\"",
        );
        assert!(!check(&checks, "quote").passed);
    }

    #[test]
    fn short_quotes_are_listed_not_checked() {
        let (score, checks) = run(spec(), "The report calls it \"non-revenue water\" [P3].");
        assert_eq!(score, 100.0, "{checks:#?}");
        assert!(check(&checks, "short quotes")
            .detail
            .contains("non-revenue water"));
        assert_eq!(check(&checks, "short quotes").weight, 0.0);
    }

    #[test]
    fn a_real_paragraph_with_an_outside_number_loses_the_fact_and_number_checks() {
        let answer = "Non-revenue water fell to 17.5 per cent at the end of the year [P3].";
        let (score, checks) = run(nrw_required(), answer);
        assert!(!check(&checks, "required").passed);
        let numbers = check(&checks, "no numbers from outside");
        assert!(!numbers.passed);
        assert!(numbers.detail.contains("17.5"), "{}", numbers.detail);
        // The citation itself names a paragraph about the claim, but the
        // number is not in it.
        let cite = check(&checks, "citation P3");
        assert!(!cite.passed);
        assert!(cite.detail.contains("17.5"));
        assert!(score < 50.0, "{score}");
    }

    #[test]
    fn citations_must_exist_and_fit_the_sentence() {
        let (_, checks) = run(
            spec(),
            "Households in Dunmere had to boil their water [P9].",
        );
        let c = check(&checks, "citation P9");
        assert!(!c.passed);
        assert!(
            c.detail
                .contains("P9 does not exist; the material has P1–P5"),
            "{}",
            c.detail
        );

        let (_, checks) = run(
            spec(),
            "Households in Dunmere had to boil their water [P2].",
        );
        assert!(!check(&checks, "citation P2").passed);

        let (_, checks) = run(
            spec(),
            "Households in Dunmere had to boil their water (paragraph 4).",
        );
        assert!(check(&checks, "citation P4").passed, "{checks:#?}");

        // A citation standing alone belongs to the sentence before it.
        let (_, checks) = run(
            spec(),
            "Households in Dunmere had to boil their water. [P4]",
        );
        let c = check(&checks, "citation P4");
        assert!(
            c.passed && c.detail.contains("stands alone"),
            "{}",
            c.detail
        );

        // A "Sources:" line carries no claim of its own.
        let (_, checks) = run(
            spec(),
            "Dunmere households had to boil their water.\n\nSources: [P4]",
        );
        let c = check(&checks, "citation P4");
        assert!(
            c.passed && c.detail.contains("stands alone"),
            "{}",
            c.detail
        );

        // ISO dates compare as the material writes them.
        let (_, checks) = run(spec(), "The peak day was 2023-07-17 [P2].");
        assert!(check(&checks, "citation P2").passed, "{checks:#?}");

        // Bare answers ("which paragraph?") only need to exist.
        let (score, checks) = run(spec(), "[P4]");
        assert_eq!(score, 100.0, "{checks:#?}");
    }

    #[test]
    fn citation_forms_and_ranges_are_read() {
        let ids =
            |a: &str| -> Vec<Vec<u32>> { citations_in(a).into_iter().map(|c| c.ids).collect() };
        assert_eq!(ids("see [P3, P5]"), vec![vec![3, 5]]);
        assert_eq!(ids("see paragraphs 2–4"), vec![vec![2, 3, 4]]);
        assert_eq!(ids("P1 and ¶ 2"), vec![vec![1], vec![2]]);
        assert_eq!(ids("see Paragraph 3 and 5"), vec![vec![3, 5]]);
        assert_eq!(ids("an MP3 file"), Vec::<Vec<u32>>::new());
        // A list that runs into a figure stops before the figure.
        assert_eq!(ids("In paragraph 4, 6,400 households"), vec![vec![4]]);
        let (_, checks) = run(
            spec(),
            "In paragraph 4, 6,400 households in Dunmere had to boil their water.",
        );
        assert!(checks.iter().all(|c| c.passed), "{checks:#?}");
    }

    #[test]
    fn numbers_are_normalised_before_comparison() {
        let (_, checks) = run(
            spec(),
            "It serves 412,000 residents (412000), uses 11 wells, had 1800 loggers, 38,200,000 marks of staff costs and peaked on 2023-07-17 [P1].",
        );
        let n = check(&checks, "no numbers from outside");
        assert!(n.passed, "{}", n.detail);
        let (_, checks) = run(spec(), "The peak was on 2023-08-17.");
        let n = check(&checks, "no numbers from outside");
        assert!(!n.passed);
        assert!(n.detail.contains("date 2023-08-17"), "{}", n.detail);
        // Numbers in the prompt and the allow-list are fine; glued digits are not numbers.
        let allowed = with(|s| {
            if let GraderSpec::Grounding { allow_numbers, .. } = s {
                allow_numbers.push(7.0);
            }
        });
        let (_, checks) = run(allowed, "7 is allowed; the 1st point is not a number.");
        assert!(check(&checks, "no numbers from outside").passed);
        // List enumerators are layout, not numbers.
        let (_, checks) = run(
            spec(),
            "Findings:\n6. Leakage fell to 18.9 per cent [P3].\n7) 1,800 loggers were installed [P3].",
        );
        assert!(
            check(&checks, "no numbers from outside").passed,
            "{checks:#?}"
        );
        assert!(checks
            .iter()
            .filter(|c| c.name.starts_with("citation"))
            .all(|c| c.passed));
    }

    #[test]
    fn keyword_and_regex_rules_and_forbidden_facts() {
        let g = with(|s| {
            if let GraderSpec::Grounding {
                required,
                forbidden,
                ..
            } = s
            {
                required.push(FactRule::Keywords(KeywordRule {
                    keywords: vec!["Dunmere".into(), "boil".into()],
                    any: false,
                    label: None,
                }));
                required.push(FactRule::Regex(RegexRule {
                    regex: r"\[P4\]".into(),
                    label: Some("cites P4".into()),
                }));
                forbidden.push(FactRule::Keywords(KeywordRule {
                    keywords: vec!["Pellow Road closed".into()],
                    any: false,
                    label: None,
                }));
            }
        });
        let (score, checks) = run(
            g.clone(),
            "Dunmere households had to BOIL their water [P4].",
        );
        assert_eq!(score, 100.0, "{checks:#?}");
        let (_, checks) = run(g.clone(), "Dunmere households [P4]; Pellow Road   closed.");
        assert!(!check(&checks, "required: Dunmere + boil").passed);
        assert!(!check(&checks, "forbidden").passed);
        assert!(check(&checks, "required: cites P4").passed);
        // "boiling" is not the whole word "boil".
        let (_, checks) = run(g, "Dunmere households were boiling water [P4].");
        assert!(!check(&checks, "required: Dunmere + boil").passed);
    }

    #[test]
    fn unsupported_questions_need_a_decline_and_no_invented_figure() {
        let g = with(|s| {
            if let GraderSpec::Grounding {
                unsupported,
                numbers,
                ..
            } = s
            {
                *unsupported = true;
                // The number check runs for unsupported questions regardless.
                *numbers = false;
            }
        });
        let (score, checks) = run(
            g.clone(),
            "The report does not state the chief executive's salary.",
        );
        assert_eq!(score, 100.0, "{checks:#?}");
        let (score, checks) = run(g.clone(), "The chief executive earned 240,000 marks.");
        assert!(!check(&checks, "says the material").passed);
        assert!(!check(&checks, "no numbers from outside").passed);
        assert_eq!(score, 0.0);
        // Declining while inventing a figure anyway loses the number check.
        let (score, _) = run(g, "It is not stated, but probably about 240,000 marks.");
        assert!(score > 0.0 && score < 100.0);
    }

    #[test]
    fn require_citation_and_weights() {
        let g = with(|s| {
            if let GraderSpec::Grounding {
                require_citation,
                weights,
                ..
            } = s
            {
                *require_citation = true;
                weights.citation_present = 3.0;
            }
        });
        let (score, checks) = run(g.clone(), "Dunmere households had to boil water.");
        assert!(!check(&checks, "cites the material").passed);
        // Numbers check (weight 1) passes, citation presence (weight 3) fails.
        assert_eq!(score, 25.0);
        let (score, _) = run(g, "Dunmere households had to boil water [P4].");
        assert_eq!(score, 100.0);
    }

    #[test]
    fn missing_materials_are_a_grader_error_not_a_zero() {
        let mut it = item(spec());
        it.materials = None;
        assert!(grade(&it, "x").is_err());
    }

    #[test]
    fn a_computed_result_may_stand_next_to_a_citation_when_allowed() {
        // 70 per cent of 6,400 households is 4,480: not in P4, but the
        // question asked for it, so the item allows it.
        let answer = "About 6,400 households had to boil water, 70% of 6,400 = 4,480 [P4].";
        let (_, checks) = run(spec(), answer);
        assert!(!check(&checks, "citation P4").passed);
        let allowed = with(|s| {
            if let GraderSpec::Grounding { allow_numbers, .. } = s {
                allow_numbers.extend([70.0, 4480.0]);
            }
        });
        let (_, checks) = run(allowed, answer);
        let c = check(&checks, "citation P4");
        assert!(c.passed, "{}", c.detail);
    }

    #[test]
    fn a_number_fact_is_found_written_as_a_word() {
        let wells = with(|s| {
            if let GraderSpec::Grounding { required, .. } = s {
                required.push(FactRule::Number(NumberRule {
                    number: 11.0,
                    tolerance: 0.0,
                    label: None,
                }));
            }
        });
        let (_, checks) = run(wells.clone(), "It uses eleven groundwater wells [P1].");
        assert!(check(&checks, "required").passed, "{checks:#?}");
        let (_, checks) = run(wells, "It uses twelve groundwater wells [P1].");
        assert!(!check(&checks, "required").passed);
    }
}
