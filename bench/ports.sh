# Port and process helpers shared by the bench scripts (sourced, not run). Loopback only.

# cpu_ticks PID: a running process's user and system CPU so far, in 10 ms ticks.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT: until something listens on it, up to 15 s.
wait_port() {
  for _ in $(seq 300); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
