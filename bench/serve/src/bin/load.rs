//! `load BASE_URL SECONDS CONCURRENCY PATH...`: requests the paths round-robin
//! from CONCURRENCY workers for SECONDS and prints, per path, the count and
//! the p50/p95/p99/max latency in milliseconds. Any non-200 answer is an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        return Err("usage: load BASE_URL SECONDS CONCURRENCY PATH...".into());
    }
    let base = args[0].trim_end_matches('/').to_string();
    let seconds: f64 = args[1].parse().map_err(|_| "SECONDS: expected a number")?;
    let workers: usize = args[2]
        .parse()
        .map_err(|_| "CONCURRENCY: expected a number")?;
    let paths: Arc<Vec<String>> = Arc::new(args[3..].to_vec());
    let client = reqwest::Client::new();
    // Warm-up: one request per path (fills the server's cache, as steady traffic would).
    for p in paths.iter() {
        let r = client.get(format!("{base}{p}")).send().await?;
        if !r.status().is_success() {
            return Err(format!("{p}: HTTP {}", r.status()).into());
        }
        r.bytes().await?;
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (client, paths, base) = (client.clone(), paths.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples: Vec<(usize, f64)> = Vec::new();
            let mut n = w;
            while Instant::now() < deadline {
                let i = n % paths.len();
                n += 1;
                let t = Instant::now();
                let url = format!("{base}{}", paths[i]);
                let r = client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| format!("{url}: {e}"))?;
                let status = r.status();
                r.bytes().await.map_err(|e| format!("{url}: {e}"))?;
                if !status.is_success() {
                    return Err(format!("{}: HTTP {status}", paths[i]));
                }
                samples.push((i, t.elapsed().as_secs_f64() * 1000.0));
            }
            Ok::<_, String>(samples)
        }));
    }
    let mut per_path: Vec<Vec<f64>> = vec![Vec::new(); paths.len()];
    for t in tasks {
        for (i, ms) in t.await?.map_err(|e| e.to_string())? {
            per_path[i].push(ms);
        }
    }
    println!(
        "{:<40} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "path", "n", "p50", "p95", "p99", "max"
    );
    for (path, mut v) in paths.iter().zip(per_path) {
        v.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
        println!(
            "{path:<40} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            v.len(),
            q(0.50),
            q(0.95),
            q(0.99),
            v[v.len() - 1]
        );
    }
    Ok(())
}
