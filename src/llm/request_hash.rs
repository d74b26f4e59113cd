//! The one normalisation and hash of a chat request, shared by resume (answers logged before a
//! crash) and cassettes (answers recorded in a file): same request, same hash.

use super::ChatRequest;
use sha2::{Digest, Sha256};

impl ChatRequest {
    /// The stable hash of everything that shapes the answer: model, messages, tools and every
    /// sampling parameter. Parameters that are unset add nothing, so hashes logged before they
    /// existed still match on resume.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.model.as_bytes());
        h.update([0]);
        h.update(serde_json::to_vec(&self.messages).unwrap_or_default());
        h.update([0]);
        h.update(serde_json::to_vec(&self.tools).unwrap_or_default());
        if let Some(t) = self.temperature {
            h.update(format!("\0temperature={t}").as_bytes());
        }
        if let Some(m) = self.max_tokens {
            h.update(format!("\0max_tokens={m}").as_bytes());
        }
        let digest = h.finalize();
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::llm::{ChatRequest, Message};

    fn req() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![Message::user("hi")],
            tools: Vec::new(),
            temperature: None,
            max_tokens: None,
        }
    }

    #[test]
    fn every_sampling_parameter_changes_the_hash_and_unset_ones_add_nothing() {
        let base = req();
        // The hash resume logged before sampling parameters were hashed.
        use sha2::{Digest, Sha256};
        let mut old = Sha256::new();
        old.update(b"m\0");
        old.update(serde_json::to_vec(&base.messages).unwrap());
        old.update(b"\0[]");
        let old: String = old.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect();
        assert_eq!(base.hash(), old);
        let hot = ChatRequest { temperature: Some(0.7), ..req() };
        let short = ChatRequest { max_tokens: Some(10), ..req() };
        let other = ChatRequest { messages: vec![Message::user("hi!")], ..req() };
        let hashes = [base.hash(), hot.hash(), short.hash(), other.hash()];
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
