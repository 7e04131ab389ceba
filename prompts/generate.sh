#!/bin/sh
# Regenerates the bundled prompts: Mandarin speech from espeak-ng and tones from sox, all as
# 8000 Hz mono 16-bit PCM WAV (what the server requires).
#   Debian: apt-get install espeak-ng sox
# Usage: prompts/generate.sh   (from anywhere; writes next to this script)
set -eu
cd "$(dirname "$0")"
command -v espeak-ng >/dev/null || { echo "needs espeak-ng (apt-get install espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "needs sox (apt-get install sox)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# speak NAME TEXT: Mandarin speech, 8 kHz mono 16-bit, a little silence at the end.
speak() {
    espeak-ng -v cmn -s 190 -w "$tmp/raw.wav" "$2"
    sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1" pad 0 0.3 norm -3
}

# greet NAME TEXT: a greeting, spoken faster and trimmed of espeak's leading and trailing
# silence. Seats ring while it plays and the caller is bridged once it ends, so it must be
# short: the standard wants a person within 15 s. At most 4 s, checked below.
greet() {
    espeak-ng -v cmn -s 230 -w "$tmp/raw.wav" "$2"
    sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1" \
        silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0 0.2 norm -3
    long=$(sox --i -D "$1" | awk '{ print ($1 > 4.0) }')
    [ "$long" = 0 ] || { echo "$1 runs $(sox --i -D "$1") s: greetings are 4 s at most" >&2; exit 1; }
}

# Welcome prompts: one per platform, naming it (division code, then name as spoken; the
# service number is read digit by digit, 一二三四五).
while IFS=, read -r code name; do
    greet "welcome-$code.wav" "您好，${name}一二三四五热线。"
done <<LIST
530000,云南省
530100,昆明市
530300,曲靖市
530400,玉溪市
530500,保山市
530600,昭通市
530700,丽江市
530800,普洱市
530900,临沧市
532300,楚雄州
532500,红河州
532600,文山州
532800,西双版纳州
532900,大理州
533100,德宏州
533300,怒江州
533400,迪庆州
LIST

# After hours: when operators are back, and how to leave a message.
speak after-hours.wav "您好，现在是非工作时间。话务员每天早上八点到晚上八点为您服务。请在提示音后留言，说明您的姓名、电话和诉求，按井号键结束，按星号键重新录音。"

# After a voice message is saved.
speak vm-saved.wav "您的留言已保存，我们会在下一个工作时段尽快给您回电。再见。"

# The beep before recording: 1 kHz for 0.4 s.
sox -n -r 8000 -c 1 -b 16 -e signed-integer beep.wav synth 0.4 sine 1000 vol 0.5

# Hold music: a slow arpeggio of soft sine tones (C major, then A minor), 8 s, loopable.
for note in C4 E4 G4 C5 A3 C4 E4 A4; do
    sox -n -r 8000 -c 1 -b 16 -e signed-integer "$tmp/$note.wav" synth 1 sine "$note" fade q 0.05 1 0.3 vol 0.3
done
sox "$tmp/C4.wav" "$tmp/E4.wav" "$tmp/G4.wav" "$tmp/C5.wav" \
    "$tmp/A3.wav" "$tmp/C4.wav" "$tmp/E4.wav" "$tmp/A4.wav" hold-music.wav

# Queue announcements: numbers and phrases for position and wait (src/call/announce.rs
# puts them together: 您前面还有 二 十 三 位来电，请耐心等候。预计等待 五 分钟。).
speak queue-position.wav "您前面还有"
speak queue-callers.wav "位来电，请耐心等候。"
speak queue-next.wav "您是下一位，请稍候。"
speak queue-wait.wav "预计等待"
speak queue-minutes.wav "分钟。"
speak queue-wait-short.wav "预计等待不到一分钟。"
for d in 0 1 2 3 4 5 6 7 8 9; do
    set -- 零 一 二 三 四 五 六 七 八 九
    shift "$d"
    speak "digit-$d.wav" "$1"
done
speak digit-10.wav "十"

# A caller an operator transferred to another queue (SIP REFER).
speak transfer.wav "正在为您转接，请稍候。"

# Menus (dialplan/queues.toml), only where a platform has one: Dali's Bai-language desk.
speak menu-532900.wav "白族话服务请按1，普通话服务请稍候。"
# Rating after the operator hangs up (src/call/flow/rating.rs), and of the handling after a
# return visit (src/call/outbound/callback.rs).
speak rate-call.wav "请对本次通话服务进行评价，满意请按1，基本满意请按2，不满意请按3。"
speak rate-handling.wav "请对工单办理结果进行评价，满意请按1，基本满意请按2，不满意请按3。"
speak rate-thanks.wav "感谢您的评价，再见。"

# Progress lookup by phone (src/call/flow/lookup.rs): the caller's own cases only.
speak lookup-enter.wav "请输入工单编号，以井号键结束。"
speak lookup-none.wav "未查询到您的工单，请核对后重新输入。"
speak lookup-state.wav "您的工单当前状态为"
speak lookup-due.wav "办理时限为"
speak lookup-stay.wav "如需人工服务，请不要挂机。"
speak date-month.wav "月"
speak date-day.wav "日"
speak time-hour.wav "点"
speak time-minute.wav "分"
while IFS=, read -r state name; do
    speak "state-$state.wav" "$name"
done <<LIST
accepted,已受理
answered-directly,已直接答复
not-accepted,不予受理
dispatched,已派单，等待承办单位签收
signed,承办单位已签收
returned,已退回，正在重新派单
handling,承办单位正在办理
extended,已延期办理
replied,承办单位已答复
callback-done,已回访
closed,已办结
published,已办结并公开
LIST

# Phone reminders to units (src/call/outbound/reminder.rs): intro, the case number digit by
# digit, the sign deadline, the key.
speak reminder-intro.wav "您好，这里是一二三四五政务服务便民热线。您单位有一件工单尚未签收，工单编号"
speak reminder-due.wav "签收时限为"
speak reminder-press1.wav "签收请按1。"
speak reminder-signed.wav "工单已签收，谢谢，再见。"
speak reminder-not-signed.wav "工单未能签收，请登录系统办理，再见。"
echo "prompts regenerated in $(pwd)"
