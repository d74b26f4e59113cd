//! The `semantic` strategy: candidates ranked by the cosine similarity of their embedding to
//! the embedding of the phase's instructions (a tie goes to the newer message), then kept
//! while they fit, like the heuristic. The embeddings come from `WINDLASS_EMBEDDINGS_MODEL`
//! at the model endpoint (`POST {base}/embeddings`); with no model set, under a cassette, or
//! when the call fails, the heuristic decides and a `warning` event says why.

use super::selection::{self, Candidate, Limits};
use crate::runner::event::RunEvent;
use crate::runner::phase_env::PhaseEnv;

/// The kept candidate indices.
pub async fn choose(
    env: &PhaseEnv<'_>,
    phase: &str,
    candidates: &[Candidate],
    instructions: &str,
    limits: Limits,
) -> Vec<usize> {
    let warn = |why: String| {
        env.emitter.emit(RunEvent::Warning {
            phase: Some(phase.to_string()),
            message: format!("context selection `semantic`: {why}; using the heuristic strategy"),
        });
        selection::heuristic(candidates, instructions, limits)
    };
    let Some(model) = env.runner.opts.embeddings_model.as_deref() else {
        return warn("no embeddings model is set (WINDLASS_EMBEDDINGS_MODEL)".into());
    };
    let mut inputs = vec![instructions.to_string()];
    inputs.extend(candidates.iter().map(|c| c.message.content.clone()));
    let vectors = match env.runner.provider.embed(model, &inputs).await {
        None => return warn("this model provider has no embeddings (a cassette run never has)".into()),
        Some(Err(e)) => return warn(format!("the embeddings call failed: {e}")),
        Some(Ok(v)) => v,
    };
    let Some((query, rest)) = vectors.split_first() else { return warn("no embeddings came back".into()) };
    let similarity: Vec<f64> = rest.iter().map(|v| cosine(query, v)).collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| similarity[b].total_cmp(&similarity[a]).then(b.cmp(&a)));
    selection::fit(candidates, &order, limits)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let n = norm(a) * norm(b);
    if n == 0.0 {
        0.0
    } else {
        dot / n
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cosine_of_parallel_orthogonal_and_zero_vectors() {
        assert!((super::cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-9);
        assert_eq!(super::cosine(&[1.0, 0.0], &[0.0, 3.0]), 0.0);
        assert_eq!(super::cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }
}
