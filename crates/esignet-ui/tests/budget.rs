//! The login page's weight, compressed, and the no-third-party rule.
//!
//! Measured over HTTP like a browser. The first load is the page, its stylesheet, its entry
//! module and every module imported statically (what a resident downloads before choosing an
//! option). The modules imported dynamically (biometrics, wallet and its QR encoder, the captcha
//! and its proof-of-work solver) load on demand and are listed apart; even the first load plus
//! all of them stays within the budget. Run with `--nocapture` to see the table for
//! BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use esignet_ui::LOCALES;
use support::{Server, page_assets, script_imports};

/// The budget: 100 KB transferred, compressed.
const BUDGET: usize = 100 * 1024;

/// The module files a script imports statically (`from "./name.hash.js"`).
fn static_imports(script: &str) -> Vec<String> {
    script
        .split("from \"./")
        .skip(1)
        .filter_map(|piece| piece.split_once('"').map(|(name, _)| name.to_owned()))
        .filter(|name| name.ends_with(".js"))
        .collect()
}

/// The login page's files as paths: `(first load, loaded on demand)`.
async fn login_files(server: &Server, lang: &str) -> (Vec<String>, Vec<String>) {
    let page = format!("/login?ui_locales={lang}");
    let (_, _, html) = server.page(&page, &[]).await;
    let mut first = vec![page];
    let mut later: Vec<String> = Vec::new();
    // (path, loaded on demand)
    let mut queue: Vec<(String, bool)> =
        page_assets(&html).into_iter().map(|p| (p, false)).collect();
    while let Some((path, on_demand)) = queue.pop() {
        if first.contains(&path) || (on_demand && later.contains(&path)) {
            continue;
        }
        if !on_demand {
            later.retain(|p| p != &path);
        }
        if path.ends_with(".js") {
            let (_, _, body) = server.get(&path, &[]).await;
            let script = String::from_utf8(body).unwrap();
            let statics = static_imports(&script);
            for file in script_imports(&script) {
                let dynamic = on_demand || !statics.contains(&file);
                queue.push((format!("/ui/assets/{file}"), dynamic));
            }
        }
        if on_demand {
            later.push(path);
        } else {
            first.push(path);
        }
    }
    later.retain(|p| !first.contains(p));
    (first, later)
}

/// Transferred size of `path` with `encoding`.
async fn size(server: &Server, path: &str, encoding: &str) -> usize {
    let (code, headers, body) = server
        .get(
            path,
            &[("Accept-Encoding", encoding), ("Accept", "text/html")],
        )
        .await;
    assert_eq!(code, 200, "{path}");
    if encoding != "identity" {
        assert_eq!(headers["content-encoding"], encoding, "{path}");
    }
    body.len()
}

/// Prints one table section and returns its totals (raw, gzip, br).
async fn table(server: &Server, files: &[String], label: &str) -> [usize; 3] {
    let mut totals = [0usize; 3];
    for path in files {
        let sizes = [
            size(server, path, "identity").await,
            size(server, path, "gzip").await,
            size(server, path, "br").await,
        ];
        for (total, size) in totals.iter_mut().zip(sizes) {
            *total += size;
        }
        let name = path
            .split('?')
            .next()
            .unwrap()
            .trim_start_matches("/ui/assets/");
        println!(
            "| {name} | {label} | {} | {} | {} |",
            sizes[0], sizes[1], sizes[2]
        );
    }
    totals
}

#[tokio::test]
async fn login_first_load_is_under_100_kb_compressed() {
    let server = Server::default().await;
    let (first, later) = login_files(&server, "en").await;
    let names = |files: &[String]| {
        files
            .iter()
            .map(|f| f.trim_start_matches("/ui/assets/").to_owned())
            .collect::<Vec<_>>()
    };
    // The captcha and its solver are fetched only when captcha.enable lists an action, the
    // device and wallet modules only when their option is chosen.
    for module in ["captcha.", "captcha-pow.", "bio.", "wallet.", "qr."] {
        assert!(
            !names(&first).iter().any(|name| name.starts_with(module)),
            "{module}js must load on demand: {:?}",
            names(&first)
        );
        assert!(
            names(&later).iter().any(|name| name.starts_with(module)),
            "{module}js is not reachable from the login page: {:?}",
            names(&later)
        );
    }

    println!("login page (bytes), English:");
    println!("| file | loaded | raw | gzip | br |");
    println!("|---|---|---:|---:|---:|");
    let first_totals = table(&server, &first, "first load").await;
    let later_totals = table(&server, &later, "on demand").await;
    println!(
        "| **first load** ({} files) | | {} | {} | {} |",
        first.len(),
        first_totals[0],
        first_totals[1],
        first_totals[2]
    );
    let all: Vec<usize> = (0..3).map(|i| first_totals[i] + later_totals[i]).collect();
    println!(
        "| first load + every on-demand module ({} files) | | {} | {} | {} |",
        first.len() + later.len(),
        all[0],
        all[1],
        all[2]
    );
    for (label, gzip, br) in [
        ("first load", first_totals[1], first_totals[2]),
        ("first load + on demand", all[1], all[2]),
    ] {
        assert!(
            gzip < BUDGET,
            "{label}: gzip total {gzip} exceeds the budget"
        );
        assert!(br < BUDGET, "{label}: br total {br} exceeds the budget");
    }

    println!("per language (first load; only the page differs):");
    for locale in LOCALES {
        let (files, _) = login_files(&server, locale.code).await;
        let mut gzip = 0;
        let mut br = 0;
        for path in &files {
            gzip += size(&server, path, "gzip").await;
            br += size(&server, path, "br").await;
        }
        println!("  {}: gzip {gzip} B, br {br} B", locale.code);
        assert!(gzip < BUDGET && br < BUDGET, "{}: over budget", locale.code);
    }
}

/// Absolute URLs allowed in pages and assets: the SBI devices on the loopback interface (the
/// point of biometric login) and the SVG namespace, an identifier that is never fetched.
const ALLOWED_ABSOLUTE: &[&str] = &["http://127.0.0.1", "http://www.w3.org/2000/svg"];

#[tokio::test]
async fn no_page_or_asset_names_another_host() {
    let server = Server::default().await;
    let mut checked = Vec::new();
    for page in [
        "/authorize?client_id=x",
        "/login",
        "/claim-details",
        "/consent",
        "/error",
        "/something-went-wrong",
        "/network-error",
        "/page-not-found",
    ] {
        let (_, _, html) = server.page(page, &[]).await;
        let mut bodies = vec![(page.to_owned(), html.clone())];
        let mut queue = page_assets(&html);
        while let Some(path) = queue.pop() {
            if checked.contains(&path) {
                continue;
            }
            checked.push(path.clone());
            let (_, _, body) = server.get(&path, &[]).await;
            let text = String::from_utf8(body).unwrap();
            queue.extend(
                script_imports(&text)
                    .into_iter()
                    .map(|f| format!("/ui/assets/{f}")),
            );
            bodies.push((path, text));
        }
        for (path, text) in bodies {
            for scheme in ["http://", "https://", "//fonts.", "url(http"] {
                for (at, _) in text.match_indices(scheme) {
                    let rest = &text[at..];
                    assert!(
                        ALLOWED_ABSOLUTE
                            .iter()
                            .any(|allowed| rest.starts_with(allowed)),
                        "{path} names another host: {}",
                        &rest[..rest.len().min(60)]
                    );
                }
            }
            assert!(!text.contains("@import"), "{path} imports a stylesheet");
        }
    }
}
