//! Chat templates: the Jinja template a model ships in its GGUF metadata,
//! rendered with minijinja the way Hugging Face `transformers` renders it.
//!
//! llama.cpp does not run Jinja by default; it recognises well-known templates
//! by substrings and applies a hand-written C++ version. For SmolLM2 that guess
//! is ChatML without the model's default system prompt, so the model would see
//! a different prompt than its authors intended (and than other runtimes
//! send). Rendering the real template keeps the prompt faithful, and makes it
//! auditable: it is a pure function of the template text and the messages.

use crate::gguf::GgufInfo;
use minijinja::{Environment, ErrorKind, Value};
use serde::Serialize;
use yardstick_core::Message;

/// ChatML, the default when a file carries no template: most small instruct
/// models (Qwen, SmolLM, many fine-tunes) use it.
pub const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/// Gemma's turn format, for Gemma-architecture files without a template.
/// Gemma has no system role; as llama.cpp does, a system message is put in
/// front of the next user turn.
pub const GEMMA: &str = "{{ bos_token }}{% set ns = namespace(system='') %}{% for message in messages %}{% if message['role'] == 'system' %}{% set ns.system = ns.system + message['content'] + '\\n\\n' %}{% else %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\\n' + (ns.system if role == 'user' else '') + message['content'] | trim + '<end_of_turn>\\n' }}{% if role == 'user' %}{% set ns.system = '' %}{% endif %}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}";

/// Where a template came from, recorded so a reader knows which prompt format
/// a local model was evaluated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateOrigin {
    /// `tokenizer.chat_template` from the GGUF file.
    Gguf,
    /// The file had none: built-in ChatML.
    BuiltinChatml,
    /// The file had none and is a Gemma model: built-in Gemma format.
    BuiltinGemma,
}

/// A chat template ready to render.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    source: String,
    origin: TemplateOrigin,
    bos_token: String,
    eos_token: String,
}

#[derive(Serialize)]
struct TemplateMessage<'a> {
    role: &'a str,
    content: &'a str,
}

const NAME: &str = "chat_template";

impl ChatTemplate {
    /// Compiles `source`. `bos_token`/`eos_token` are the token texts the
    /// template may print (many templates start with `{{ bos_token }}`).
    pub fn new(
        source: impl Into<String>,
        origin: TemplateOrigin,
        bos_token: impl Into<String>,
        eos_token: impl Into<String>,
    ) -> Result<ChatTemplate, minijinja::Error> {
        let source = source.into();
        let mut env = Environment::new();
        // transformers compiles chat templates with these two options; without
        // them a template written over several lines renders stray newlines.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // Python string/dict methods (`.strip()`, `.startswith()`, `.items()`)
        // that templates written for Jinja2 call.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<Value, minijinja::Error> {
                Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_template_owned(NAME, source.clone())?;
        Ok(ChatTemplate {
            env,
            source,
            origin,
            bos_token: bos_token.into(),
            eos_token: eos_token.into(),
        })
    }

    /// The template of a GGUF file (read with its token list): its own
    /// `tokenizer.chat_template`, else Gemma for a Gemma architecture, else
    /// ChatML.
    pub fn from_gguf(info: &GgufInfo) -> Result<ChatTemplate, minijinja::Error> {
        let token = |key: &str| {
            info.get_u64(key)
                .and_then(|id| info.token_text(id))
                .unwrap_or_default()
                .to_string()
        };
        let bos = token("tokenizer.ggml.bos_token_id");
        let eos = token("tokenizer.ggml.eos_token_id");
        match info.get_str("tokenizer.chat_template") {
            Some(source) if !source.trim().is_empty() => {
                ChatTemplate::new(source, TemplateOrigin::Gguf, bos, eos)
            }
            _ => {
                let is_gemma = info.architecture().is_some_and(|a| a.starts_with("gemma"));
                if is_gemma {
                    ChatTemplate::new(GEMMA, TemplateOrigin::BuiltinGemma, bos, eos)
                } else {
                    ChatTemplate::new(CHATML, TemplateOrigin::BuiltinChatml, bos, eos)
                }
            }
        }
    }

    /// The template text, for the record.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn origin(&self) -> TemplateOrigin {
        self.origin
    }

    pub fn bos_token(&self) -> &str {
        &self.bos_token
    }

    pub fn eos_token(&self) -> &str {
        &self.eos_token
    }

    /// The prompt text for `messages`, ending with the cue for the assistant's
    /// turn (`add_generation_prompt = true`).
    pub fn render(&self, messages: &[Message]) -> Result<String, minijinja::Error> {
        let messages: Vec<TemplateMessage<'_>> = messages
            .iter()
            .map(|m| TemplateMessage {
                role: m.role.as_str(),
                content: &m.content,
            })
            .collect();
        let template = self.env.get_template(NAME)?;
        template.render(minijinja::context! {
            messages => messages,
            add_generation_prompt => true,
            bos_token => self.bos_token,
            eos_token => self.eos_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_renders_turns_and_the_assistant_cue() {
        let t = ChatTemplate::new(CHATML, TemplateOrigin::BuiltinChatml, "", "<|im_end|>").unwrap();
        let out = t
            .render(&[Message::system("Be brief."), Message::user("Hi")])
            .unwrap();
        assert_eq!(out, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn gemma_folds_the_system_message_into_the_first_user_turn() {
        let t = ChatTemplate::new(GEMMA, TemplateOrigin::BuiltinGemma, "<bos>", "<eos>").unwrap();
        let out = t
            .render(&[
                Message::system("Be brief."),
                Message::user("Hi "),
                Message::assistant("Hello"),
                Message::user("Bye"),
            ])
            .unwrap();
        assert_eq!(
            out,
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn python_methods_and_raise_exception_work_like_transformers() {
        let src = "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}[{{ m['content'].strip() }}]\n{% endfor %}";
        let t = ChatTemplate::new(src, TemplateOrigin::Gguf, "", "").unwrap();
        assert_eq!(
            t.render(&[Message::user("  a  "), Message::user("b")])
                .unwrap(),
            "[a]\n[b]\n"
        );
        let err = t.render(&[Message::system("x")]).unwrap_err();
        assert!(err.to_string().contains("no system role"), "{err}");
    }

    #[test]
    fn block_tags_on_their_own_lines_leave_no_blank_lines() {
        let src = "{% for m in messages %}\n  {% if m['role'] == 'user' %}\nU: {{ m['content'] }}\n  {% endif %}\n{% endfor %}";
        let t = ChatTemplate::new(src, TemplateOrigin::Gguf, "", "").unwrap();
        assert_eq!(t.render(&[Message::user("x")]).unwrap(), "U: x\n");
    }
}
