/*
 * Simulated IRIS: one small program installed under the names of InterSystems IRIS's processes, so that
 * irisflame's tests and examples can sample real processes with IRIS's names, install layout and
 * argument shapes on a machine where IRIS itself cannot be installed. It is NOT IRIS: every function
 * below only burns CPU (or waits) under a name that says what the real process would be doing.
 *
 * What it does depends on the name it runs under (argv[0]) and on its arguments, after the pattern an
 * execsnoop trace of a real `irisstop quietly restart` shows:
 *   iris start|stop|restart|force|status NAME, iris list
 *                                      -> start: irisrecov, the control process, QUIET^STU; the instance stays up
 *   irisstop [quietly] [restart]       -> irisdb -cV, sh -c "irisdb ... OPT^SHUTDOWN(1)" (stops the instance's
 *                                         processes), irisdb -cL, then (restart) the start
 *   irisrecov MGR quietly              -> iriswdimj -t, iriswdimj -j MGR
 *   irisdb -s<mgr>/ -w<mgr>/ -cc -B -C<cpf>*NAME -> the control process (instance.c)
 *   irisdb ... -U -B ... QUIET^STU     -> the startup: forks the jobs "irisdb -s<mgr> -cj -p13 ROUTINE",
 *                                         requirements_check; SERVERS^STU1 forks httpd and the task manager
 *   irisdb ... ROUTINE                 -> a job: burns CPU in the function named after ROUTINE, then (resident
 *                                         ones, inside a running instance) stays, mostly asleep
 *   irisdb --burn MS                   -> burns CPU for MS milliseconds (used by record tests)
 * Durations scale with IRISSIM_MS (milliseconds of work per step, default 250). The waits of a real start
 * and stop (disk, CPF, a missing file, a lock, children, sleep) are in waits.c; an instance's processes and
 * their life in instance.c. docs/dev/simulated-iris.md describes all of it.
 */
#include "irissim.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char bin_dir[PATH_MAX], install_dir[PATH_MAX], data_root[PATH_MAX], data_dir[PATH_MAX], mgr_dir[PATH_MAX];
char instance_name[64] = "IRIS";
long work_ms = 250, busy_ms = 2, cycle_ms = 1000;
static volatile unsigned long sink; /* keeps the compiler from deleting the work */

double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL); /* a signal (SIGTERM) ends it early */
}

/* The innermost work every simulated activity shares: a hash over a small buffer. */
static NOINLINE unsigned long HashBlock(unsigned long seed) {
  unsigned long h = seed;
  for (int i = 0; i < 4096; i++) h = (h ^ (unsigned long)i) * 1099511628211UL;
  return h;
}

NOINLINE void BurnFor(long ms, unsigned long seed) {
  double end = now_ms() + (double)ms;
  while (now_ms() < end) sink += HashBlock(seed++);
}

/* A call chain deep enough to show where stacks get cut: built without frame pointers (install.sh
 * --no-frame-pointers), fp unwinding sees leaf_work alone; DWARF unwinding sees main -> ... -> leaf_work.
 * Each level works after its call, so none becomes a tail call that would leave the chain anyway. */
static NOINLINE void leaf_work(long ms) { BurnFor(ms, 7); }
static NOINLINE void level_c(long ms) { leaf_work(ms); sink++; }
static NOINLINE void level_b(long ms) { level_c(ms); sink++; }
static NOINLINE void level_a(long ms) { level_b(ms); sink++; }

/* One function per activity, so a flame graph shows what each simulated process was doing. */
#define ACTIVITY(name) \
  static NOINLINE void name(long ms) { BurnFor(ms, (unsigned long)__LINE__); }
ACTIVITY(GlobalBufferScan)
ACTIVITY(JournalApply)
ACTIVITY(WriteDaemonFlush)
ACTIVITY(RoutineCompile)
ACTIVITY(ShutdownFlushBuffers)
ACTIVITY(ValidateConfiguration)
ACTIVITY(LicenseCheck)
ACTIVITY(WijRecoveryScan)
ACTIVITY(WijJournalRestore)
ACTIVITY(MonitorSample)
ACTIVITY(CleanDaemonSweep)
ACTIVITY(ReceiveListen)
ACTIVITY(JournalZipScan)
ACTIVITY(SuperServerAccept)
ACTIVITY(ServersStart)
ACTIVITY(TaskManagerRun)
ACTIVITY(LogDaemonWrite)
ACTIVITY(WorkQueueDispatch)
ACTIVITY(RequirementsProbe)
ACTIVITY(HttpdServeRequests)
ACTIVITY(StartupLoadDatabases)

/* A job's entry routine, as IRIS passes it in the arguments, the function that stands for it, whether it
 * stays up with the instance, and whether QUIET^STU starts it (else SERVERS^STU1 does, as in the real trace). */
enum { LOCK_NONE, LOCK_HOLDS, LOCK_CYCLES, LOCK_WAITS };
struct routine {
  const char *name;
  void (*work)(long ms);
  int resident, from_servers;
  int locked; /* its work holds the instance lock (waits.c): in its cycles, and at start LOCK_HOLDS / LOCK_WAITS */
};
static const struct routine ROUTINES[] = {
    {"START^MONITOR", MonitorSample, 1, 0, LOCK_CYCLES},         {"START^CLNDMN", CleanDaemonSweep, 1, 0, LOCK_HOLDS},
    {"^RECEIVE", ReceiveListen, 1, 0, 0},              {"SCAN^JRNZIP", JournalZipScan, 1, 0, LOCK_WAITS},
    {"Master^%SYS.SERVER", SuperServerAccept, 1, 0, 0}, {"SERVERS^STU1", ServersStart, 0, 0, 0},
    {"RunManager^%SYS.Task", TaskManagerRun, 1, 1, 0}, {"Daemon^LOGDMN", LogDaemonWrite, 1, 0, LOCK_CYCLES},
    {"startWork^%SYS.WorkQueueMgr", WorkQueueDispatch, 1, 0, 0},
};
#define ROUTINE_COUNT (sizeof ROUTINES / sizeof ROUTINES[0])

/* Run <bin_dir>/<prog> with args (NULL-terminated), wait, return its exit status. */
int run(const char *prog, char *const args[]) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/%s", bin_dir, prog);
  return wait_status(spawn_in(NULL, path, args, -1));
}

static char *mgr_arg(void) {
  static char arg[PATH_MAX + 3];
  snprintf(arg, sizeof arg, "-s%s", mgr_dir);
  return arg;
}

/* Jobs name the manager directory without its trailing slash: `-s/data/IRIS/mgr`. */
static char *job_mgr_arg(void) {
  static char arg[PATH_MAX + 3];
  snprintf(arg, sizeof arg, "-s%s", mgr_dir);
  size_t len = strlen(arg);
  if (len > 3 && arg[len - 1] == '/') arg[len - 1] = '\0';
  return arg;
}

/* Start a job `<bin>/irisdb -s<mgr> -cj -p13 ROUTINE`; it inherits our ready pipe (if any). */
static pid_t spawn_job(const char *routine, int ready_fd) {
  char path[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/irisdb", bin_dir);
  char *args[] = {path, job_mgr_arg(), "-cj", "-p13", (char *)routine, NULL};
  return spawn_in(NULL, path, args, ready_fd);
}

static pid_t spawn_httpd(int ready_fd) {
  char conf[PATH_MAX + 32], httpd[PATH_MAX + 32], httpd_root[PATH_MAX + 8];
  snprintf(conf, sizeof conf, "%s/httpd/conf/httpd.conf", data_dir);
  snprintf(httpd, sizeof httpd, "%s/httpd/bin/httpd", install_dir);
  snprintf(httpd_root, sizeof httpd_root, "%s/httpd", install_dir);
  char *web[] = {httpd, "-f", conf, "-d", httpd_root, "-c", "Listen 52773", NULL};
  return spawn_in(NULL, httpd, web, ready_fd);
}

static int ready_fd_from_env(void) {
  const char *fd = getenv("IRISSIM_READY_FD");
  return fd ? atoi(fd) : -1;
}

/* QUIET^STU: start the jobs and wait until each is up (resident) or done (the others), then exit. The
 * jobs stay, children of this process until it exits. A pipe tells when they are up: each inherits its
 * write end and closes it once started; EOF means all are. */
static NOINLINE void Startup(void) {
  ReadConfigurationFile();
  StartupLoadDatabases(work_ms);
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) { perror("pipe"); return; }
  pid_t transient[4];
  int n = 0;
  for (size_t i = 0; i < ROUTINE_COUNT; i++) {
    if (ROUTINES[i].from_servers) continue;
    pid_t pid = spawn_job(ROUTINES[i].name, ready[1]);
    if (!ROUTINES[i].resident) transient[n++] = pid;
    usleep(20 * 1000); /* IRIS starts its daemons one after another */
  }
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/requirements_check", bin_dir);
  char *check[] = {"requirements_check", NULL};
  transient[n++] = spawn_in(NULL, path, check, ready[1]);
  close(ready[1]);
  char buf[64];
  ssize_t got;
  while ((got = read(ready[0], buf, sizeof buf)) != 0)
    if (got < 0 && errno != EINTR) break;
  close(ready[0]);
  for (int i = 0; i < n; i++) wait_status(transient[i]);
}

static NOINLINE void Shutdown(int restart) {
  char *validate[] = {"./irisdb", mgr_arg(), "-cV", NULL};
  run("irisdb", validate);
  char shutdown_cmd[PATH_MAX * 2];
  snprintf(shutdown_cmd, sizeof shutdown_cmd, "%s/irisdb %s -U -B 'OPT^SHUTDOWN(1)'", bin_dir, mgr_arg());
  char *sh[] = {"sh", "-c", shutdown_cmd, NULL};
  wait_status(spawn_in(NULL, "/bin/sh", sh, -1));
  char *license[] = {"./irisdb", mgr_arg(), "-cL", NULL};
  run("irisdb", license);
  if (restart) start_instance();
}

static int has_arg(int argc, char **argv, const char *want) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], want) == 0) return 1;
  return 0;
}

/* A job's work, under the instance lock when its routine shares data with another: at start START^CLNDMN
 * holds it while SCAN^JRNZIP waits in futex (waits.c); in their cycles MONITOR, CLNDMN, JRNZIP and LOGDMN
 * meet there now and then. */
static const struct routine *current_routine;
static double start_lock_wait = -1;
static NOINLINE void StartupWork(long ms) {
  if (current_routine->locked == LOCK_HOLDS) start_lock_wait = CleanDaemonHoldLock(current_routine->work, ms);
  else if (current_routine->locked == LOCK_WAITS) start_lock_wait = JournalZipAwaitLock(current_routine->work, ms);
  else current_routine->work(ms);
}

static NOINLINE void CycleWork(long ms) {
  int locked = current_routine->locked != LOCK_NONE && instance_lock() >= 0;
  current_routine->work(ms);
  if (locked) instance_unlock();
}

/* A job: its start-up work, then (resident jobs inside a running instance) its cycle until the instance stops. */
static NOINLINE int RunJob(const struct routine *routine) {
  current_routine = routine;
  StartupWork(work_ms);
  if (strcmp(routine->name, "SERVERS^STU1") == 0) {
    /* the real SERVERS^STU1 is the parent of httpd and the task manager */
    int ready = ready_fd_from_env();
    pid_t web = spawn_httpd(ready);
    for (size_t r = 0; r < ROUTINE_COUNT; r++)
      if (ROUTINES[r].from_servers) spawn_job(ROUTINES[r].name, ready);
    (void)web;
    return 0;
  }
  if (!routine->resident || !become_resident(routine->name)) return 0;
  if (start_lock_wait >= 0)
    fprintf(stderr, "simulated IRIS %s: %s took the instance lock after waiting %.0f ms\n", instance_name, routine->name, start_lock_wait);
  ready_signal();
  resident_loop(CycleWork);
  return 0;
}

static int irisdb_main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--burn") == 0) {
      GlobalBufferScan(atol(argv[i + 1]));
      return 0;
    }
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--deep") == 0) {
      level_a(atol(argv[i + 1]));
      return 0;
    }
  if (has_arg(argc, argv, "-cc")) return control_main();
  if (has_arg(argc, argv, "QUIET^STU")) { Startup(); return 0; }
  if (has_arg(argc, argv, "-cV")) { ReadConfigurationFile(); ValidateConfiguration(work_ms / 2); return 0; }
  if (has_arg(argc, argv, "-cL")) { LookUpLicenseKey(); LicenseCheck(work_ms / 4); return 0; }
  if (has_arg(argc, argv, "OPT^SHUTDOWN(1)")) {
    ShutdownFlushBuffers(work_ms);
    stop_instance_processes();
    WriteDaemonFlush(work_ms / 2);
    return 0;
  }
  for (size_t r = 0; r < ROUTINE_COUNT; r++)
    if (has_arg(argc, argv, ROUTINES[r].name)) return RunJob(&ROUTINES[r]);
  RoutineCompile(work_ms);
  return 0;
}

static long env_ms(const char *name, long fallback) {
  const char *value = getenv(name);
  return value && atol(value) > 0 ? atol(value) : fallback;
}

static void find_dirs(int argc, char **argv) {
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[len > 0 ? len : 0] = '\0';
  snprintf(bin_dir, sizeof bin_dir, "%s", dirname(exe));
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", bin_dir);
  char *parent = dirname(tmp);
  /* httpd lives in <install>/httpd/bin, the others in <install>/bin */
  if (strcmp(basename(parent), "httpd") == 0) {
    snprintf(install_dir, sizeof install_dir, "%s", dirname(parent));
    snprintf(bin_dir, sizeof bin_dir, "%s/bin", install_dir);
  } else {
    snprintf(install_dir, sizeof install_dir, "%s", parent);
  }
  /* install.sh lays out <root>/usr/irissys and <root>/data/NAME */
  snprintf(tmp, sizeof tmp, "%s", install_dir);
  char *root = dirname(dirname(tmp));
  const char *data = getenv("IRISSIM_DATA");
  if (data) snprintf(data_root, sizeof data_root, "%s", data);
  else snprintf(data_root, sizeof data_root, "%s/data", strcmp(root, "/") == 0 ? "" : root);
  /* the instance: from -s<mgr>, else from the environment `iris` set, else IRIS */
  const char *mgr = getenv("IRISSIM_MGR");
  for (int i = 1; i < argc; i++)
    if (strncmp(argv[i], "-s", 2) == 0 && argv[i][2] == '/') mgr = argv[i] + 2;
  if (mgr) select_instance_by_mgr(mgr);
  else select_instance("IRIS");
  work_ms = env_ms("IRISSIM_MS", work_ms);
  busy_ms = env_ms("IRISSIM_BUSY_MS", busy_ms);
  cycle_ms = env_ms("IRISSIM_CYCLE_MS", cycle_ms);
}

static int iris_main(int argc, char **argv) {
  const char *usage = "usage: iris start|stop|restart|force|status NAME | iris list   (simulated IRIS)\n";
  if (argc >= 2 && strcmp(argv[1], "list") == 0) return list_instances(argc >= 3 ? argv[2] : NULL);
  if (argc < 3) { fputs(usage, stderr); return 2; }
  if (!valid_instance_name(argv[2])) { fprintf(stderr, "iris (simulated IRIS): bad instance name %s (letters, digits, _ and -)\n", argv[2]); return 2; }
  select_instance(argv[2]);
  const char *action = argv[1];
  if (strcmp(action, "stop") == 0 || strcmp(action, "restart") == 0) {
    ensure_instance_dirs();
    char *args[] = {"irisstop", "quietly", strcmp(action, "restart") == 0 ? "restart" : NULL, NULL};
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/irisstop", bin_dir);
    return wait_status(spawn_in(bin_dir, path, args, -1)); /* in <install>/bin, as its ./irisdb children show */
  }
  if (strcmp(action, "start") == 0) return start_instance();
  if (strcmp(action, "init") == 0) { ensure_instance_dirs(); return 0; } /* lay out ROOT/data/NAME (install.sh) */
  if (strcmp(action, "force") == 0) return force_instance();
  if (strcmp(action, "status") == 0 || strcmp(action, "qlist") == 0) return list_instances(argv[2]);
  fprintf(stderr, "iris (simulated IRIS): unknown action %s\n%s", action, usage);
  return 2;
}

int main(int argc, char **argv) {
  find_dirs(argc, argv);
  char self[PATH_MAX];
  snprintf(self, sizeof self, "%s", argv[0]);
  const char *name = basename(self);
  if (strcmp(name, "iris") == 0) return iris_main(argc, argv);
  if (strcmp(name, "irisstop") == 0) { Shutdown(has_arg(argc, argv, "restart")); return 0; }
  if (strcmp(name, "irisrecov") == 0) {
    if (argc >= 2 && argv[1][0] == '/') select_instance_by_mgr(argv[1]);
    ReadConfigurationFile();
    WijRecoveryScan(work_ms / 2);
    char *t[] = {"iriswdimj", "-t", NULL};
    run("iriswdimj", t);
    char *j[] = {"iriswdimj", "-j", mgr_dir, NULL};
    run("iriswdimj", j);
    return 0;
  }
  if (strcmp(name, "iriswdimj") == 0) {
    if (argc >= 3 && strcmp(argv[1], "-j") == 0) select_instance_by_mgr(argv[2]);
    if (has_arg(argc, argv, "-j")) JournalReadAndApply();
    else WijReadAll();
    WijJournalRestore(work_ms / 2);
    return 0;
  }
  if (strcmp(name, "requirements_check") == 0) { RequirementsProbe(work_ms / 2); return 0; }
  if (strcmp(name, "httpd") == 0) {
    HttpdServeRequests(work_ms);
    if (become_resident("httpd")) { ready_signal(); resident_loop(HttpdServeRequests); }
    return 0;
  }
  if (strcmp(name, "irisrun") == 0) { JournalApply(work_ms); return 0; }
  return irisdb_main(argc, argv);
}
