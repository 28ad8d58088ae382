//! Generation with the real SmolLM2-135M-Instruct model.

mod common;

use common::{model_path, options, request};
use yardstick_core::{ErrorClass, Message};
use yardstick_local::{LocalOptions, LocalProvider, TemplateOrigin};
use yardstick_providers::Provider;

fn provider() -> LocalProvider {
    LocalProvider::from_file(&model_path(), options()).expect("loading the test model")
}

fn file_name() -> String {
    model_path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn greedy_answers_repeat_across_calls_and_handles() {
    let first = provider();
    let second = provider();
    assert!(
        first.shares_model_with(&second),
        "the model must be loaded once per file"
    );

    let req = request(vec![Message::user("What is the capital of France?")], 12);
    let a = first.send(&req).await.unwrap();
    let b = first.send(&req).await.unwrap();
    let c = second.send(&req).await.unwrap();
    assert!(!a.text.trim().is_empty());
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.model.as_deref(), Some(file_name().as_str()));
    assert!(
        a.usage.input_tokens > 20,
        "the default system prompt is part of the prompt: {:?}",
        a.usage
    );
    assert!((1..=12).contains(&a.usage.output_tokens), "{:?}", a.usage);
    assert!(matches!(
        a.finish_reason.as_deref(),
        Some("stop" | "length")
    ));
}

#[tokio::test]
async fn seeded_sampling_repeats() {
    let p = provider();
    let mut req = request(vec![Message::user("Name a colour.")], 10);
    req.temperature = Some(0.9);
    req.top_p = Some(0.95);
    req.seed = Some(1234);
    let a = p.send(&req).await.unwrap();
    let b = p.send(&req).await.unwrap();
    assert_eq!(a.text, b.text);
}

#[tokio::test]
async fn max_tokens_ends_with_length_and_stop_sequences_are_cut() {
    let p = provider();
    let mut req = request(
        vec![Message::user(
            "Count from one to twenty in words, separated by commas.",
        )],
        3,
    );
    let short = p.send(&req).await.unwrap();
    assert_eq!(short.finish_reason.as_deref(), Some("length"));
    assert_eq!(short.usage.output_tokens, 3);

    // Greedy decoding repeats, so a stop string taken from the middle of a
    // longer answer is produced again; the answer must end right before it.
    req.max_tokens = Some(24);
    let long = p.send(&req).await.unwrap();
    let chars: Vec<(usize, char)> = long.text.char_indices().collect();
    assert!(
        chars.len() >= 8,
        "answer too short for the test: {:?}",
        long.text
    );
    let (start, _) = chars[chars.len() / 2];
    let end = chars
        .get(chars.len() / 2 + 3)
        .map_or(long.text.len(), |&(i, _)| i);
    let stop = long.text[start..end].to_string();
    let expected = &long.text[..long.text.find(&stop).unwrap()];
    req.stop = vec![stop.clone()];
    let cut = p.send(&req).await.unwrap();
    assert_eq!(cut.text, expected, "stop {stop:?} in {:?}", long.text);
    assert_eq!(cut.finish_reason.as_deref(), Some("stop"));
    assert!(cut.usage.output_tokens < long.usage.output_tokens);
}

#[tokio::test]
async fn an_overlong_prompt_is_a_bad_request_and_the_model_keeps_answering() {
    let p = LocalProvider::from_file(
        &model_path(),
        LocalOptions {
            context_size: 256,
            ..options()
        },
    )
    .unwrap();
    assert_eq!(p.context_size(), 256);
    let long = "lorem ipsum ".repeat(300);
    let err = p
        .send(&request(vec![Message::user(long)], 4))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::BadRequest);
    assert!(
        err.message.contains("prompt is ") && err.message.contains("context is 256"),
        "{}",
        err.message
    );

    let ok = p
        .send(&request(vec![Message::user("Say hi.")], 4))
        .await
        .unwrap();
    assert!(ok.usage.output_tokens >= 1);
}

#[tokio::test]
async fn concurrent_requests_are_served_in_turn() {
    let p = provider();
    let r1 = request(vec![Message::user("Say yes.")], 4);
    let r2 = request(vec![Message::user("Say no.")], 4);
    let (a, b) = tokio::join!(p.send(&r1), p.send(&r2));
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
}

#[tokio::test]
async fn invalid_settings_are_bad_requests() {
    let p = provider();
    let mut req = request(vec![Message::user("x")], 4);
    req.temperature = Some(-1.0);
    assert_eq!(
        p.send(&req).await.unwrap_err().class,
        ErrorClass::BadRequest
    );
    let empty = request(vec![], 4);
    assert_eq!(
        p.send(&empty).await.unwrap_err().class,
        ErrorClass::BadRequest
    );
}

/// The template stored in the SmolLM2 GGUF (`tokenizer.chat_template`) is
///
/// ```jinja
/// {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
/// You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
/// ' }}{% endif %}{{'<|im_start|>' + message['role'] + '
/// ' + message['content'] + '<|im_end|>' + '
/// '}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
/// ' }}{% endif %}
/// ```
///
/// so the expected prompts below follow from it by hand.
#[test]
fn prompts_follow_the_template_in_the_gguf() {
    let p = provider();
    assert_eq!(p.template().origin(), TemplateOrigin::Gguf);
    assert!(p
        .template()
        .source()
        .contains("named SmolLM, trained by Hugging Face"));

    let conversation = [
        Message::system("You are terse."),
        Message::user("2+2?"),
        Message::assistant("4"),
        Message::user("And 3+3?"),
    ];
    assert_eq!(
        p.render_prompt(&conversation).unwrap(),
        "<|im_start|>system\nYou are terse.<|im_end|>\n\
         <|im_start|>user\n2+2?<|im_end|>\n\
         <|im_start|>assistant\n4<|im_end|>\n\
         <|im_start|>user\nAnd 3+3?<|im_end|>\n\
         <|im_start|>assistant\n"
    );

    assert_eq!(
        p.render_prompt(&[Message::user("Hello")]).unwrap(),
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nHello<|im_end|>\n\
         <|im_start|>assistant\n"
    );
}
