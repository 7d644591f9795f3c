/*
 * Simulated IRIS: one instance's life. Its data dir is <root>/data/NAME ({mgr/, iris.cpf}); its processes are
 * listed in <mgr>/irissim.pids ("PID ROLE" lines, the control process first), which stop and force read.
 * Resident processes (the control process, the daemons and jobs, httpd) sleep in short steps and burn
 * busy_ms now and then; each watches the control process through a pidfd and exits when it is gone, as a
 * real IRIS's processes do when the control process dies. NOT IRIS.
 */
#include "irissim.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PID_LIST "irissim.pids"
#define MAX_PIDS 64

static volatile sig_atomic_t stop_requested;
static int control_watch = -1; /* pidfd of the control process, for residents other than the control process */

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_signal(int fd, int sig) { return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0); }

int valid_instance_name(const char *name) {
  if (name[0] == '\0' || strlen(name) >= sizeof instance_name) return 0;
  for (const char *c = name; *c; c++)
    if (!(*c >= 'A' && *c <= 'Z') && !(*c >= 'a' && *c <= 'z') && !(*c >= '0' && *c <= '9') && *c != '_' && *c != '-')
      return 0;
  return 1;
}

void select_instance(const char *name) {
  snprintf(instance_name, sizeof instance_name, "%s", name);
  snprintf(data_dir, sizeof data_dir, "%s/%s", data_root, name);
  snprintf(mgr_dir, sizeof mgr_dir, "%s/mgr/", data_dir);
  setenv("IRISSIM_MGR", mgr_dir, 1);
}

void select_instance_by_mgr(const char *mgr) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", mgr);
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/') path[--len] = '\0';
  snprintf(mgr_dir, sizeof mgr_dir, "%s/", path);
  char *slash = strrchr(path, '/');
  if (slash != NULL && slash != path) *slash = '\0';
  snprintf(data_dir, sizeof data_dir, "%s", path);
  const char *base = strrchr(data_dir, '/');
  snprintf(instance_name, sizeof instance_name, "%s", base ? base + 1 : data_dir);
  setenv("IRISSIM_MGR", mgr_dir, 1); /* for children that get no -s (iriswdimj -t) */
}

static void mkdirs(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') { *p = '\0'; mkdir(buf, 0755); *p = '/'; }
  mkdir(buf, 0755);
}

/* The instance's directories and configuration file, created on its first start. */
void ensure_instance_dirs(void) {
  char path[PATH_MAX + 64];
  mkdirs(mgr_dir);
  snprintf(path, sizeof path, "%s/httpd/conf", data_dir);
  mkdirs(path);
  snprintf(path, sizeof path, "%s/httpd/conf/httpd.conf", data_dir);
  if (access(path, F_OK) != 0) { FILE *f = fopen(path, "w"); if (f) { fputs("# simulated IRIS httpd\nListen 52773\n", f); fclose(f); } }
  snprintf(path, sizeof path, "%s/iris.cpf", data_dir);
  if (access(path, F_OK) != 0) {
    FILE *f = fopen(path, "w");
    if (f) {
      fprintf(f, "; simulated IRIS configuration (not IRIS)\n[ConfigFile]\nProduct=IRIS\nVersion=2024.1\n"
                 "[Startup]\nDefaultPort=1972\nWebServerPort=52773\n[Journal]\nCurrentDirectory=%sjournal/\n"
                 "[config]\nglobals=0,0,256,0,0,0\nroutines=64\nwijdir=%s\n[Databases]\nIRISSYS=%s\nUSER=%suser/\n",
              mgr_dir, mgr_dir, mgr_dir, mgr_dir);
      for (int i = 0; i < 200; i++) fprintf(f, "[Map.NS%d]\nGlobal_Data%d=USER\n", i, i); /* a CPF of realistic size */
      fclose(f);
    }
  }
  create_data_files();
}

static void pid_list_path(char *out, size_t size) { snprintf(out, size, "%s%s", mgr_dir, PID_LIST); }

/* Whether pid is a live (not zombie) process of this instance: its argv names the instance's data dir. */
static int is_instance_process(pid_t pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *paren = strrchr(buf, ')');
  if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z' || paren[2] == 'X') return 0;
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  for (ssize_t i = 0; i < n; i++) if (buf[i] == '\0') buf[i] = ' ';
  buf[n] = '\0';
  char want[PATH_MAX + 1];
  snprintf(want, sizeof want, "%s/", data_dir);
  return strstr(buf, want) != NULL;
}

/* The pid list: pids[0] is the control process when roles[0] says so. Returns the count. */
static int read_pid_list(pid_t *pids, char roles[][48], int max) {
  char path[PATH_MAX + 32];
  pid_list_path(path, sizeof path);
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  int n = 0, pid;
  char role[48];
  while (n < max && fscanf(f, "%d %47s", &pid, role) == 2) { pids[n] = pid; snprintf(roles[n], 48, "%s", role); n++; }
  fclose(f);
  return n;
}

pid_t running_control(void) {
  pid_t pids[MAX_PIDS];
  char roles[MAX_PIDS][48];
  int n = read_pid_list(pids, roles, MAX_PIDS);
  for (int i = 0; i < n; i++)
    if (strcmp(roles[i], "control") == 0 && is_instance_process(pids[i])) return pids[i];
  return 0;
}

static void append_pid(const char *role, int truncate) {
  char path[PATH_MAX + 32], line[96];
  pid_list_path(path, sizeof path);
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
  if (fd < 0) return;
  int len = snprintf(line, sizeof line, "%d %s\n", (int)getpid(), role);
  if (write(fd, line, (size_t)len) < 0) perror(path);
  close(fd);
}

void ready_signal(void) {
  const char *fd = getenv("IRISSIM_READY_FD");
  if (fd == NULL) return;
  close(atoi(fd));
  unsetenv("IRISSIM_READY_FD");
}

/* Read a ready pipe to its end: every process that inherited its write end is up (or gone). */
static void ready_wait(int read_fd) {
  char buf[64];
  ssize_t n;
  while ((n = read(read_fd, buf, sizeof buf)) != 0)
    if (n < 0 && errno != EINTR) break;
  close(read_fd);
}

static void on_sigterm(int sig) { (void)sig; stop_requested = 1; }

/* Detach from the caller's terminal and pipes (a test's stdout must not wait for the daemons), log to
 * <mgr>/messages.log, take SIGTERM as the request to stop, join the pid list. */
static void detach(const char *role, int first) {
  struct sigaction sa = {0};
  sa.sa_handler = on_sigterm; /* no SA_RESTART: sleeps end early */
  sigaction(SIGTERM, &sa, NULL);
  append_pid(role, first);
  char log[PATH_MAX + 32];
  snprintf(log, sizeof log, "%smessages.log", mgr_dir);
  int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in >= 0) { dup2(in, 0); close(in); }
  if (out >= 0) { dup2(out, 1); dup2(out, 2); close(out); }
  setsid();
  fprintf(stderr, "simulated IRIS %s: %s started (pid %d)\n", instance_name, role, (int)getpid());
}

int become_resident(const char *role) {
  pid_t control = running_control();
  if (control == 0) return 0; /* run by hand, outside an instance: do the work once and exit */
  control_watch = pidfd_open_(control);
  if (control_watch < 0) return 0;
  detach(role, 0);
  return 1;
}

static int control_gone(void) {
  struct pollfd p = {.fd = control_watch, .events = POLLIN};
  return control_watch >= 0 && poll(&p, 1, 0) > 0;
}

void resident_loop(void (*work)(long ms)) {
  long cycle = cycle_ms + (getpid() % 7) * cycle_ms / 20; /* not all in step */
  while (!stop_requested) {
    for (long slept = 0; slept < cycle && !stop_requested; slept += 200) {
      sleep_ms(cycle - slept < 200 ? cycle - slept : 200);
      if (control_gone()) {
        fprintf(stderr, "simulated IRIS %s: pid %d: the control process is gone, exiting\n", instance_name, (int)getpid());
        _exit(1);
      }
    }
    if (!stop_requested) work(busy_ms);
  }
}

#define ACTIVITY(name) \
  static NOINLINE void name(long ms) { BurnFor(ms, (unsigned long)__LINE__); }
ACTIVITY(ControlSharedMemoryInit)
ACTIVITY(ControlWriteDaemonCycle)
ACTIVITY(ControlFinalFlush)

/* The control process: `irisdb -s<mgr>/ -w<mgr>/ -cc -B -C<cpf>*NAME`, up until SIGTERM (stop) or SIGKILL (force). */
int control_main(void) {
  detach("control", 1);
  ReadConfigurationFile();
  LookUpLicenseKey();
  instance_lock_create();
  ControlSharedMemoryInit(work_ms / 4);
  DatabaseMount();
  ready_signal();
  resident_loop(ControlWriteDaemonCycle);
  ControlFinalFlush(work_ms / 4);
  WriteDaemonFinalPass();
  fprintf(stderr, "simulated IRIS %s: control process stopped\n", instance_name);
  return 0;
}

pid_t spawn_in(const char *cwd, const char *path, char *const args[], int ready_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    if (cwd != NULL && chdir(cwd) != 0) perror(cwd);
    if (ready_fd >= 0) {
      fcntl(ready_fd, F_SETFD, 0); /* inherited across exec, closed once the process is up */
      char value[16];
      snprintf(value, sizeof value, "%d", ready_fd);
      setenv("IRISSIM_READY_FD", value, 1);
    }
    execv(path, args);
    perror(path);
    _exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Start this instance from the calling process (iris start, or irisstop restart), as IRIS does:
 * recovery, then the control process, then the startup process QUIET^STU, which starts the jobs. */
int start_instance(void) {
  ensure_instance_dirs();
  pid_t running = running_control();
  if (running != 0) {
    fprintf(stderr, "simulated IRIS: instance %s is already running (control process %d)\n", instance_name, (int)running);
    return 0;
  }
  char *recov[] = {"irisrecov", mgr_dir, "quietly", NULL};
  run("irisrecov", recov);

  char s_arg[PATH_MAX + 3], w_arg[PATH_MAX + 3], c_arg[PATH_MAX + 80], irisdb[PATH_MAX + 8];
  snprintf(s_arg, sizeof s_arg, "-s%s", mgr_dir);
  snprintf(w_arg, sizeof w_arg, "-w%s", mgr_dir);
  snprintf(c_arg, sizeof c_arg, "-C%s/iris.cpf*%s", data_dir, instance_name);
  snprintf(irisdb, sizeof irisdb, "%s/irisdb", bin_dir);
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) { perror("pipe"); return 1; }
  char *control_args[] = {"./irisdb", s_arg, w_arg, "-cc", "-B", c_arg, NULL};
  pid_t control = spawn_in(bin_dir, irisdb, control_args, ready[1]);
  close(ready[1]);
  ready_wait(ready[0]);
  if (waitpid(control, NULL, WNOHANG) == control) {
    fprintf(stderr, "simulated IRIS: the control process of %s exited during start\n", instance_name);
    return 1;
  }
  char *startup[] = {"./irisdb", s_arg, w_arg, "-U", "-B", "-b1024", "-Erunlevel=sys/complete", "QUIET^STU", NULL};
  pid_t stu = spawn_in(bin_dir, irisdb, startup, -1);
  return wait_status(stu);
}

/* Wait until every pidfd in fds has exited or deadline_ms passed; SIGKILL what is left. */
static void wait_gone(int *fds, int n, long deadline_ms) {
  double end = now_ms() + (double)deadline_ms;
  for (;;) {
    struct pollfd p[MAX_PIDS];
    int left = 0;
    for (int i = 0; i < n; i++)
      if (fds[i] >= 0) p[left++] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    if (left == 0) return;
    long remaining = (long)(end - now_ms());
    if (remaining <= 0) break;
    if (poll(p, (nfds_t)left, (int)remaining) < 0 && errno != EINTR) break;
    for (int k = 0; k < left; k++)
      if (p[k].revents != 0)
        for (int i = 0; i < n; i++)
          if (fds[i] == p[k].fd) { close(fds[i]); fds[i] = -1; }
  }
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) { pidfd_signal(fds[i], SIGKILL); close(fds[i]); fds[i] = -1; }
}

/* Open pidfds for the listed processes that are still this instance's, and send them sig. */
static int signal_listed(int want_control, int sig, int *fds) {
  pid_t pids[MAX_PIDS];
  char roles[MAX_PIDS][48];
  int n = read_pid_list(pids, roles, MAX_PIDS), count = 0;
  for (int i = 0; i < n; i++) {
    if ((strcmp(roles[i], "control") == 0) != want_control || !is_instance_process(pids[i])) continue;
    int fd = pidfd_open_(pids[i]);
    if (fd < 0) continue;
    if (sig != 0) pidfd_signal(fd, sig);
    fds[count++] = fd;
  }
  return count;
}

/* OPT^SHUTDOWN's part: the daemons and jobs first, the control process last; waits for each to exit. */
void stop_instance_processes(void) {
  int fds[MAX_PIDS];
  int n = signal_listed(0, SIGTERM, fds);
  wait_gone(fds, n, 10000);
  n = signal_listed(1, SIGTERM, fds);
  wait_gone(fds, n, 10000);
  char path[PATH_MAX + 32];
  pid_list_path(path, sizeof path);
  unlink(path);
}

/* `iris force NAME`: the control process dies without irisstop (a crash); the others notice and exit. */
int force_instance(void) {
  int fds[MAX_PIDS];
  int n = signal_listed(1, SIGKILL, fds);
  if (n == 0) { fprintf(stderr, "simulated IRIS: instance %s is not running\n", instance_name); return 0; }
  wait_gone(fds, n, 10000);
  n = signal_listed(0, 0, fds);
  wait_gone(fds, n, 5000); /* they exit on their own within a fraction of a second */
  return 0;
}

static void print_instance(const char *name) {
  select_instance(name);
  pid_t control = running_control();
  pid_t pids[MAX_PIDS];
  char roles[MAX_PIDS][48];
  int n = read_pid_list(pids, roles, MAX_PIDS), alive = 0;
  for (int i = 0; i < n; i++) alive += is_instance_process(pids[i]);
  printf("Configuration '%s'   (simulated IRIS)\n\tdirectory:    %s\n\tdatadir:      %s\n\tconf. file:   iris.cpf\n",
         name, install_dir, data_dir);
  if (control != 0) printf("\tstatus:       running, control process %d, %d processes\n", (int)control, alive);
  else printf("\tstatus:       down\n");
}

int list_instances(const char *only) {
  if (only != NULL) { print_instance(only); return running_control() != 0 ? 0 : 1; }
  DIR *dir = opendir(data_root);
  if (dir == NULL) return 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL)
    if (entry->d_name[0] != '.' && valid_instance_name(entry->d_name)) print_instance(entry->d_name);
  closedir(dir);
  return 0;
}
