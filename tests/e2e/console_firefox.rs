//! The console's browser phone in Firefox (headless, through geckodriver): the same call as
//! in Chromium, with Firefox's own WebRTC stack against the server's. Firefox's fake
//! microphone is a steady tone (1000 Hz, set by a pref; it cannot be a WAV), which the caller
//! must hear; headless Firefox has no audio output, hence no WebAudio, so the page's meter
//! shows the received level from the receiver's statistics, which must rise with the
//! caller's 800 Hz.

use crate::common;

use std::time::Duration;

use common::audio::{decode_stream, tone, tone_share};
use common::browser::{click, firefox, gecko, text_of, wait_for};
use common::console::{answer_in_page, meter_reading, phone_on_and_available, sign_in_seat};
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::server::{Backend, ServerOptions};
use hotline12345::media::g711::Codec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_takes_a_call_in_firefox() {
    let Some(driver) = gecko().await else {
        return;
    };
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        move |server| async move {
            let c = firefox(&driver).await;
            sign_in_seat(&c, &server).await;
            phone_on_and_available(&c).await;

            let mut caller = TestPhone::udp(server.sip).await;
            let (call, resp) = caller.call("087163644444", "12345").await;
            assert_eq!(resp.status_code.code(), 200);
            wait_for(&c, "#call:not([hidden]) #answer:not([hidden])").await;
            assert_eq!(text_of(&c, "#call-caller").await, "087163644444");
            answer_in_page(&c, &server).await;

            let to_server = TestPhone::server_rtp(&call);
            let mut stream = PhoneStream::default();
            let said = tone(800.0, 8000 * 5);
            // Headless Firefox has no audio output, so no WebAudio: the page's meter takes the
            // received level from the receiver's statistics.
            let hears = meter_reading(&c, "data-level", |level| level > 0.05);
            let (_, heard, page_level) = tokio::join!(
                caller.send_audio(to_server, &mut stream, &said),
                caller.receive_rtp(300, Duration::from_secs(6)),
                hears,
            );
            assert!(
                page_level > 0.05,
                "Firefox receives the caller's audio: level {page_level}"
            );
            // The strongest of a range of frequencies in the best second the caller heard.
            let heard = decode_stream(Codec::Pcmu, &heard);
            let (hz, share) = (0..heard.len().saturating_sub(8000))
                .step_by(1600)
                .flat_map(|at| {
                    let second = &heard[at..at + 8000];
                    (4..=40).map(move |k| (k as f64 * 50.0, tone_share(second, k as f64 * 50.0)))
                })
                .fold((0.0, 0.0), |best, c| if c.1 > best.1 { c } else { best });
            assert!(
                share > 0.5 && (hz - 1000.0f64).abs() <= 50.0,
                "the caller hears Firefox's 1000 Hz tone: at best {share:.2} of a second's \
                 energy at {hz} Hz, in {} samples",
                heard.len()
            );
            // Hung up in the page: the caller rates the call and gets the BYE.
            click(&c, "#hang-up").await;
            caller.send_dtmf(to_server, &mut stream, '2').await;
            assert!(
                caller.expect_bye(Duration::from_secs(10)).await,
                "BYE to the caller after the rating"
            );
            c.close().await.unwrap();
        },
    )
    .await;
}
