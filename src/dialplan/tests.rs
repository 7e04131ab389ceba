//! Loading the bundled dialplan, and every kind of mistake reported with file and line.

use std::path::{Path, PathBuf};

use super::*;

fn bundled() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dialplan")
}

/// A copy of the bundled dialplan in a fresh folder, with `file` replaced by `content`.
fn with_file(file: &str, content: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "hotline.toml",
        "platforms.toml",
        "mobile-prefixes.csv",
        "holidays.csv",
        "staffing-exceptions.csv",
        "units.csv",
        "districts.csv",
        "users.toml",
        "agents.toml",
    ] {
        std::fs::copy(bundled().join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join(file), content).unwrap();
    dir
}

fn problems(dir: &Path) -> Vec<String> {
    load(dir)
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_bundled_dialplan_loads() {
    let plan = load(&bundled()).unwrap();
    assert_eq!(plan.router.platforms().len(), 17);
    assert_eq!(plan.router.provincial().code, "530000");
    assert_eq!(
        plan.router.platform("532800").unwrap().area_code.as_deref(),
        Some("0691")
    );
    assert!(plan.router.mobile_prefix_count() > 3000);
    assert_eq!(plan.time_zone, chrono_tz::Asia::Shanghai);
    assert!(plan.calendar.covers("2026-10-01".parse().unwrap()));
    let d = plan.router.route("12345", "13013361234").unwrap();
    assert_eq!(d.platform, "532900");
}

#[test]
fn toml_syntax_error_names_the_line() {
    let dir = with_file(
        "hotline.toml",
        "service_numbers = [\"12345\"]\ntime_zone = \n",
    );
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("hotline.toml:2:"), "{p:?}");
}

#[test]
fn unknown_time_zone() {
    let dir = with_file(
        "hotline.toml",
        "service_numbers = [\"12345\"]\ntime_zone = \"Asia/Kunming\"\ndefault_hours = []\n",
    );
    let p = problems(dir.path());
    assert!(
        p[0].contains("hotline.toml:2: unknown time zone \"Asia/Kunming\""),
        "{p:?}"
    );
}

#[test]
fn duplicate_area_code_names_both_lines() {
    let text = std::fs::read_to_string(bundled().join("platforms.toml")).unwrap();
    let broken = text.replacen("area_code = \"0874\"", "area_code = \"0871\"", 1);
    let dir = with_file("platforms.toml", &broken);
    let p = problems(dir.path());
    assert!(
        p.iter().any(|m| m.contains("platforms.toml:")
            && m.contains("area_code 0871 is already used at line")),
        "{p:?}"
    );
}

#[test]
fn unknown_field_and_missing_provincial_platform() {
    let dir = with_file(
        "platforms.toml",
        "[[platform]]\ncode = \"530100\"\nname_zh = \"昆明市\"\nname_en = \"Kunming\"\narea_code = \"0871\"\nlevel = \"prefecture\"\ncolour = \"red\"\n",
    );
    let p = problems(dir.path());
    assert!(
        p[0].contains("platforms.toml:7:") && p[0].contains("colour"),
        "{p:?}"
    );

    let dir = with_file(
        "platforms.toml",
        "[[platform]]\ncode = \"530100\"\nname_zh = \"昆明市\"\nname_en = \"Kunming\"\narea_code = \"0871\"\nlevel = \"prefecture\"\n",
    );
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|m| m.contains("exactly one provincial platform")),
        "{p:?}"
    );
}

#[test]
fn bad_mobile_prefix_rows_name_their_lines() {
    let dir = with_file(
        "mobile-prefixes.csv",
        "# a comment\nprefix,division_code,area_code\n1301336,532900,0872\n130,532900,0872\n1301337,539999,0872\n1301336,532900,0872\n1301338,532900,0871\n1301339,532900\n",
    );
    let p = problems(dir.path());
    let expect = [
        "mobile-prefixes.csv:4: prefix \"130\"",
        "mobile-prefixes.csv:5: division_code 539999 is not a platform",
        "mobile-prefixes.csv:6: prefix 1301336 is already listed at line 3",
        "mobile-prefixes.csv:7: area_code 0871 does not match platform 532900",
        "mobile-prefixes.csv:8:",
    ];
    for e in expect {
        assert!(p.iter().any(|m| m.contains(e)), "missing {e:?} in {p:?}");
    }
}

#[test]
fn bad_holiday_rows_name_their_lines() {
    let dir = with_file(
        "holidays.csv",
        "date,kind,name\n2026-10-01,holiday,National Day\n2026-13-01,holiday,Nonsense\n2026-10-02,rest,National Day\n2026-10-08,workday,National Day\n",
    );
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|m| m.contains("holidays.csv:3: date \"2026-13-01\"")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.contains("holidays.csv:4: kind \"rest\"")),
        "{p:?}"
    );

    let dir = with_file(
        "holidays.csv",
        "date,kind,name\n2026-10-01,holiday,National Day\n2026-10-08,workday,National Day\n",
    );
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|m| m.contains("holidays.csv:3:") && m.contains("only weekends")),
        "{p:?}"
    );
}

#[test]
fn a_missing_file_or_folder_is_named() {
    let dir = with_file("hotline.toml", "");
    std::fs::remove_file(dir.path().join("holidays.csv")).unwrap();
    let p = problems(dir.path());
    assert!(
        p.iter().any(|m| m.contains("holidays.csv: cannot read")),
        "{p:?}"
    );
    let p = problems(Path::new("/nonexistent/dialplan"));
    assert!(p[0].contains("is not a folder"), "{p:?}");
}

#[test]
fn staffed_hours_per_platform_with_exceptions() {
    let plan = load(&bundled()).unwrap();
    let at = |s: &str| -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone;
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Asia::Shanghai
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    assert!(!plan.is_staffed("530100", at("2026-11-25 07:59")));
    assert!(plan.is_staffed("530100", at("2026-11-25 08:00")));
    assert!(!plan.is_staffed("530100", at("2026-11-25 20:00")));
    assert!(
        plan.is_staffed("530000", at("2026-11-25 03:00")),
        "the province is 7x24"
    );

    let text = std::fs::read_to_string(bundled().join("platforms.toml")).unwrap();
    let weekly = text.replacen(
        "level = \"prefecture\"",
        "level = \"prefecture\"\nweekly = { sat = [\"09:00-12:00\"] }",
        1,
    );
    let dir = with_file(
        "staffing-exceptions.csv",
        "date,platform,hours\n2026-11-26,*,closed\n2026-11-27,530100,10:00-12:00 14:00-16:00\n",
    );
    std::fs::write(dir.path().join("platforms.toml"), weekly).unwrap();
    let plan = load(dir.path()).unwrap();
    assert!(
        !plan.is_staffed("530100", at("2026-11-26 10:00")),
        "closed day"
    );
    assert!(
        !plan.is_staffed("530000", at("2026-11-26 10:00")),
        "* closes all"
    );
    assert!(
        plan.is_staffed("530300", at("2026-11-27 09:00")),
        "others unchanged"
    );
    assert!(!plan.is_staffed("530100", at("2026-11-27 09:00")));
    assert!(plan.is_staffed("530100", at("2026-11-27 15:59")));
    assert!(
        plan.is_staffed("530100", at("2026-11-28 11:59")),
        "Saturday pattern"
    );
    assert!(!plan.is_staffed("530100", at("2026-11-28 12:00")));
}

#[test]
fn bad_hours_name_their_lines() {
    let dir = with_file(
        "staffing-exceptions.csv",
        "date,platform,hours\n2026-11-26,539999,closed\n2026-11-27,530100,10-12\n2026-11-28,530100,\n",
    );
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|m| m.contains("staffing-exceptions.csv:2: platform 539999")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.contains("staffing-exceptions.csv:3:") && m.contains("HH:MM-HH:MM")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.contains("staffing-exceptions.csv:4: hours is empty")),
        "{p:?}"
    );

    let text = std::fs::read_to_string(bundled().join("platforms.toml")).unwrap();
    let broken = text.replacen("hours = [\"00:00-24:00\"]", "hours = [\"20:00-08:00\"]", 1);
    let dir = with_file("platforms.toml", &broken);
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|m| m.contains("platforms.toml:") && m.contains("crosses midnight")),
        "{p:?}"
    );
}

#[test]
fn a_missing_calendar_year_is_warned_about_ahead_of_time() {
    let plan = load(&bundled()).unwrap();
    let at = |s: &str| -> chrono::DateTime<chrono::Utc> { s.parse().unwrap() };
    assert_eq!(calendar_warning(&plan, at("2026-06-01T00:00:00Z")), None);
    let w = calendar_warning(&plan, at("2026-11-25T00:00:00Z")).unwrap();
    assert!(w.contains("2027"), "{w}");
}

#[test]
fn every_platform_has_its_queue_and_queues_toml_adds_a_desk_and_a_menu() {
    let plan = load(&bundled()).unwrap();
    let q = &plan.queues;
    assert_eq!(
        q.queues.len(),
        18,
        "17 platforms' own queues and Dali's Bai desk"
    );
    let kunming = q.get("530100").unwrap();
    assert_eq!(kunming.platform, "530100");
    assert!(kunming.skills.is_empty());
    assert_eq!(kunming.settings, QueueSettings::default());
    let bai = q.get("532900-bai").unwrap();
    assert_eq!(bai.platform, "532900", "the platform comes from the name");
    assert_eq!(bai.skills.get("bai-language"), Some(&5));
    assert_eq!(bai.settings.strategy, crate::acd::Strategy::SkillBased);
    assert_eq!(bai.settings.max_wait, std::time::Duration::from_secs(60));
    assert_eq!(bai.settings.overflow, "532900");
    // What it does not set comes from hotline.toml's [queue].
    assert_eq!(
        bai.settings.ring_timeout,
        std::time::Duration::from_secs(15)
    );
    // Only Dali has a menu; its key 1 leads to the desk.
    assert_eq!(q.menus.len(), 1);
    let menu = &q.menus["532900"];
    assert_eq!(
        menu.choices.get(&'1').map(String::as_str),
        Some("532900-bai")
    );
    assert_eq!(menu.timeout, std::time::Duration::from_secs(4));
}

#[test]
fn without_queues_toml_each_platform_has_one_queue_and_no_menu() {
    let dir = with_file(
        "units.csv",
        &std::fs::read_to_string(bundled().join("units.csv")).unwrap(),
    );
    let plan = load(dir.path()).unwrap();
    assert_eq!(plan.queues.queues.len(), 17);
    assert!(plan.queues.menus.is_empty());
}

#[test]
fn a_platform_can_change_its_own_queue() {
    let dir = with_file(
        "queues.toml",
        "[[queue]]\nname = \"530000\"\nstrategy = \"ring-all\"\nwrap_up_secs = 0\n",
    );
    let plan = load(dir.path()).unwrap();
    assert_eq!(plan.queues.queues.len(), 17, "changed, not added");
    let province = plan.queues.get("530000").unwrap();
    assert_eq!(province.settings.strategy, crate::acd::Strategy::RingAll);
    assert!(province.settings.wrap_up.is_zero());
}

#[test]
fn queue_and_menu_mistakes_name_their_lines() {
    let dir = with_file(
        "queues.toml",
        r#"[[queue]]
name = "530100complaints"

[[queue]]
name = "539999-x"

[[queue]]
name = "530100-yi"
skills = { yi-language = 11 }

[[queue]]
name = "530100-tibetan"
skills = { tibetan = 3 }

[[queue]]
name = "530100-late"
overflow = "530100-nowhere"

[[queue]]
name = "530300-a"
overflow = "530300-b"

[[queue]]
name = "530300-b"
overflow = "530300-a"

[[queue]]
name = "530300-a"

[[menu]]
platform = "530100"
prompt = "../menu.wav"
timeout_secs = 0
choices = { "12" = "530100", "2" = "530100-gone" }

[[menu]]
platform = "532900"
prompt = "menu-532900.wav"
choices = { "1" = "532900" }

[[menu]]
platform = "532900"
prompt = "menu-532900.wav"
choices = { "1" = "532900" }
"#,
    );
    let p = problems(dir.path());
    let has = |needle: &str| {
        assert!(
            p.iter().any(|m| m.contains(needle)),
            "no problem with {needle:?} in {p:#?}"
        )
    };
    has("queues.toml:1: queue name \"530100complaints\" must be its platform's code 530100");
    has("queues.toml:4: queue name \"539999-x\" must start with the code of a platform");
    has("queues.toml:7: skill yi-language level 11 must be 1 to 10");
    has("queues.toml:11: no seat of platform 530100 in agents.toml has the skills of queue 530100-tibetan (tibetan 3)");
    has("queues.toml:15: queue 530100-late overflows to \"530100-nowhere\", which is neither \"voicemail\" nor a queue");
    has("queue overflows go round in a circle: 530300-a → 530300-b → 530300-a");
    has("queues.toml:27: queue 530300-a is already defined at line 19");
    has("queues.toml:30: prompt \"../menu.wav\" must be a .wav file name in the prompts folder");
    has("queues.toml:30: timeout_secs must be 1 to 30");
    has("queues.toml:30: menu key \"12\" must be one of 0-9, * or #");
    has("queues.toml:30: menu key 2 leads to queue 530100-gone, which is not defined");
    has("queues.toml:41: platform 532900 already has a menu");
    // The circle is told once, not once per queue in it.
    assert_eq!(p.iter().filter(|m| m.contains("circle")).count(), 1);
}

#[test]
fn a_default_overflow_that_is_no_queue_is_told_once() {
    let hotline = std::fs::read_to_string(bundled().join("hotline.toml")).unwrap();
    let dir = with_file(
        "hotline.toml",
        &hotline.replace("overflow = \"voicemail\"", "overflow = \"539999\""),
    );
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].contains("hotline.toml: [queue]: overflow \"539999\" is neither"),
        "{p:?}"
    );
}

#[test]
fn queue_keys_of_queues_toml_are_refused_in_the_defaults() {
    let hotline = std::fs::read_to_string(bundled().join("hotline.toml")).unwrap();
    let dir = with_file(
        "hotline.toml",
        &hotline.replace("[queue]\n", "[queue]\nskills = { mandarin = 5 }\n"),
    );
    let p = problems(dir.path());
    assert!(
        p.iter()
            .any(|m| m.contains("queue.skills belongs in a [[queue]] of queues.toml")),
        "{p:#?}"
    );
}

#[test]
fn a_seat_keeps_its_password_or_its_ha1_values_and_each_mistake_is_named() {
    // The bundled seats keep HA1 values only; they check as the passwords "dev-<id>" would.
    let plan = load(&bundled()).unwrap();
    let seat = plan.seats.iter().find(|s| s.id == "1001").unwrap();
    use crate::registrar::digest::{Algorithm, Secret};
    assert!(matches!(seat.secret, Secret::Ha1 { .. }));
    for alg in [Algorithm::Md5, Algorithm::Sha256] {
        assert_eq!(
            seat.secret.ha1(alg, "1001", "hotline12345"),
            Some(alg.ha1("1001", "hotline12345", "dev-1001"))
        );
    }
    let seat = |body: &str| format!("[[agent]]\nid = \"9001\"\nplatform = \"530100\"\n{body}\n");
    let md5 = "ha1_md5 = \"5d5ced6a4869048f8bcb8b1e465ba65c\"";
    for (body, wanted) in [
        ("skills = { mandarin = 10 }".to_string(), "agents.toml:1: a seat needs password"),
        (
            format!("password = \"dev-9001\"\n{md5}"),
            "agents.toml:1: give password or HA1 values, not both",
        ),
        ("ha1_md5 = \"5d5c\"".to_string(), "agents.toml:1: ha1_md5 must be 32 hex digits"),
        (
            "ha1_sha256 = \"zz\"".to_string(),
            "agents.toml:1: ha1_sha256 must be 64 hex digits",
        ),
        (
            "ha1_sha256 = \"d41c754168384dffc236500e4c3360420a02912ec3c85134db1f8d759ec8508b\"\ndigest = \"md5\"".to_string(),
            "agents.toml:1: digest = \"md5\" needs password or ha1_md5",
        ),
    ] {
        let dir = with_file("agents.toml", &seat(&body));
        let p = problems(dir.path());
        assert!(p.iter().any(|m| m.contains(wanted)), "{body}: {p:?}");
    }
    // The bundled supervisors' phones (users.toml names them) stay.
    let phones = "[[agent]]\nid = \"1900\"\nplatform = \"530000\"\npassword = \"dev-1900\"\ntakes_calls = false\n\
                  [[agent]]\nid = \"1901\"\nplatform = \"530100\"\npassword = \"dev-1901\"\ntakes_calls = false\n";
    let dir = with_file("agents.toml", &format!("{}{phones}", seat(md5)));
    let plan = load(dir.path()).unwrap();
    assert!(
        !plan
            .seats
            .iter()
            .find(|s| s.id == "1901")
            .unwrap()
            .takes_calls
    );
    assert!(plan.seats[0].takes_calls);
    assert_eq!(
        plan.seats[0].secret.algorithms(false),
        [Algorithm::Md5],
        "a seat with only an MD5 HA1 is challenged with MD5 alone"
    );
}

#[test]
fn every_prefecture_lists_its_districts() {
    let plan = load(&bundled()).unwrap();
    assert_eq!(plan.districts.len(), 129, "Yunnan's county-level divisions");
    let kunming: Vec<&str> = plan
        .districts
        .iter()
        .filter(|d| d.platform == "530100")
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(kunming.len(), 14);
    assert!(kunming.contains(&"五华区") && kunming.contains(&"安宁市"));
    for p in plan
        .router
        .platforms()
        .iter()
        .filter(|p| p.code != "530000")
    {
        assert!(
            plan.districts.iter().any(|d| d.platform == p.code),
            "{} has no district",
            p.code
        );
    }
}

#[test]
fn a_district_outside_its_platform_is_refused_with_its_line() {
    let dir = with_file(
        "districts.csv",
        "code,name,platform\n530102,五华区,530100\n530302,麒麟区,530100\n530102,五华区,530100\n\
         530000,云南省,530000\n",
    );
    let found = problems(dir.path());
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].contains(":3:") && found[0].contains("does not lie inside"),
        "{found:?}"
    );
    assert!(
        found[1].contains(":4:") && found[1].contains("twice"),
        "{found:?}"
    );
    assert!(
        found[2].contains(":5:") && found[2].contains("not a prefecture"),
        "{found:?}"
    );
}
