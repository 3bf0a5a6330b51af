# Sourced by the measuring scripts: starts Xvfb on a display number no
# other server holds, sets $xvfb_display (":N") and stops it on exit.
xvfb_number=$((150 + $$ % 50))
while [ -e "/tmp/.X11-unix/X$xvfb_number" ] || [ -e "/tmp/.X$xvfb_number-lock" ]; do xvfb_number=$((xvfb_number + 1)); done
xvfb_display=":$xvfb_number"
Xvfb "$xvfb_display" -screen 0 1280x1024x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
sleep 1
