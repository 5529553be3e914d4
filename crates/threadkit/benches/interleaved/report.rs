//! What the interleaved benches share: each round times a batch of threadkit
//! and then a batch of its peer; the result is the median of the per-round
//! ratios (a ratio taken within one round holds on a shared machine).

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints one line: both medians and the median of the per-round ratios.
pub fn report(what: &str, unit: &str, ours: &[f64], peer: &[f64]) {
    let ratios = ours.iter().zip(peer).map(|(a, b)| a / b).collect();
    println!(
        "{what:34} threadkit {:7.2} {unit}  peer {:7.2} {unit}  ratio {:.3} (median of {} rounds)",
        median(ours.to_vec()),
        median(peer.to_vec()),
        median(ratios),
        ours.len()
    );
}
