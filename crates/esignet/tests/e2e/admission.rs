//! Admission control (`server.max_in_flight_requests`): with every permit taken, a request is
//! refused at once with 503 and `Retry-After`, the health endpoint still answers, and capacity
//! comes back as soon as the request holding it ends.

use std::time::Duration;

use crate::harness::{Server, free_port};
use crate::login::Rp;
use crate::telemetry::{sample, scrape};
use crate::wallet::{link_status, show_qr};

/// GETs discovery until it answers `want` (or the deadline passes); returns the last response.
async fn discovery_until(server: &Server, want: u16) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = reqwest::get(server.url("/oidc/.well-known/openid-configuration"))
            .await
            .unwrap();
        if response.status() == want || tokio::time::Instant::now() > deadline {
            return response;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_full_instance_sheds_load_with_503_and_recovers() {
    let metrics_port = free_port();
    let bind = format!("127.0.0.1:{metrics_port}");
    let server = Server::start(&[
        ("ESIGNET_SERVER__MAX_IN_FLIGHT_REQUESTS", "1"),
        ("ESIGNET_TELEMETRY__METRICS_BIND", bind.as_str()),
    ])
    .await;
    let rp = Rp::demo(&server);
    let (browser, _verifier, link_code) = show_qr(&server, &rp).await;
    // The browser's long poll (no wallet scans the code) holds the only permit.
    let holder = link_status(&browser, &link_code);
    let probe = async {
        // Probe only once the long poll is being served (the metrics listener is never shed):
        // a probe that arrived first would take the permit and shed the long poll instead.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while sample(
            &scrape(metrics_port).await,
            "esignet_http_requests_in_flight",
        ) < 1.0
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the long poll never started"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let refused = discovery_until(&server, 503).await;
        assert_eq!(refused.status(), 503, "a second request is shed");
        assert_eq!(refused.headers()["retry-after"], "1");
        assert_eq!(refused.headers()["cache-control"], "no-store");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
        let health = reqwest::get(server.url("/actuator/health")).await.unwrap();
        assert_eq!(health.status(), 200, "probes are never shed");
    };
    tokio::select! {
        answer = holder => panic!("the long poll ended before the probe: {answer}"),
        () = probe => {}
    }
    // Dropping the long poll closed its connection and released the permit.
    let served = discovery_until(&server, 200).await;
    assert_eq!(served.status(), 200, "capacity comes back");
}
