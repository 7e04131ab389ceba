#!/bin/sh
# Runs baresip (Debian's baresip-core) as an operator seat of hotline12345: it registers with
# digest authentication, answers every call at once, says what is in SOURCE_WAV and records
# what it hears (sndfile's dump-<time>-dec.wav in DIR/received). Loopback only.
#
#   sipp-scenarios/baresip-seat.sh SERVER SEAT PASSWORD DIR SOURCE_WAV [SIP_PORT]
#
#   SERVER      the server's SIP address, e.g. 127.0.0.1:5060 (numeric: baresip would ask DNS
#               for a name)
#   SEAT        the seat's id in dialplan/agents.toml; it needs digest = "md5": baresip 1.0
#               reads only the first challenge and cannot do SHA-256 (it gives up with
#               "Function not implemented")
#   DIR         a folder for its config, UUID and recordings (created)
#   SOURCE_WAV  8 kHz mono 16-bit WAV it plays into each call; baresip hangs up when it ends,
#               so make it longer than the call
#   SIP_PORT    its own SIP port on 127.0.0.1 (default 5070)
#
# It prints "... 200 OK ..." once registered and "Call established" when it answers; SIGTERM
# stops it (send it while the server still runs, or it waits ~30 s to un-register).
set -eu
[ $# -ge 5 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
server=$1 seat=$2 password=$3 dir=$4 source=$5 port=${6:-5070}
command -v baresip >/dev/null || { echo "needs baresip (apt-get install baresip-core)" >&2; exit 1; }
mkdir -p "$dir/received"
cat > "$dir/config" <<CONFIG
poll_method		epoll
sip_listen		127.0.0.1:$port
net_interface		127.0.0.1
dns_server		127.0.0.1:53
call_max_calls		4
audio_source		aufile,$source
audio_player		aubridge,nil
audio_alert		aubridge,nil
ausrc_srate		8000
auplay_srate		8000
ausrc_channels		1
auplay_channels		1
rtp_ports		31000-31999
rtcp_mux		no
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			aubridge.so
module			sndfile.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
statmode_default	off
snd_path		$dir/received
CONFIG
echo "<sip:$seat@$server;transport=udp>;auth_pass=$password;answermode=auto;audio_codecs=PCMU;regint=60" > "$dir/accounts"
exec baresip -f "$dir" </dev/null
