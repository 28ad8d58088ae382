//! `gen DB [MODELS DAYS ITEMS]`: writes the synthetic database (default
//! 30 models × 365 daily runs × 10 items) to the SQLite file DB.

use std::time::Instant;
use yardstick_bench_serve::{generate, Shape};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(db) = args.first() else {
        return Err("usage: gen DB [MODELS DAYS ITEMS]".into());
    };
    let number = |i: usize, default: usize| -> Result<usize, String> {
        args.get(i).map_or(Ok(default), |s| {
            s.parse()
                .map_err(|_| format!("argument {i} `{s}`: expected a number"))
        })
    };
    let shape = Shape {
        models: number(1, 30)?,
        days: number(2, 365)?,
        items: number(3, 10)?,
        first_day: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date"),
        planted_response: Some("<script>alert('pwned')</script>".into()),
    };
    if std::path::Path::new(db).exists() {
        return Err(format!("{db} exists; the generator only writes a new database").into());
    }
    let store = yardstick_store::Store::open(db).await?;
    let started = Instant::now();
    let runs = generate(&store, &shape).await?;
    println!(
        "{db}: {} models × {} runs × {} items = {} attempts in {:.1} s",
        shape.models,
        runs.len(),
        shape.items,
        shape.models * runs.len() * shape.items,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
