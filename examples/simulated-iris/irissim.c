/*
 * Simulated IRIS: one small program installed under the names of InterSystems IRIS's processes, so that
 * irisflame's tests and examples can sample real processes with IRIS's names, install layout and
 * argument shapes on a machine where IRIS itself cannot be installed. It is NOT IRIS: every function
 * below only burns CPU under a name that says what the real process would be doing.
 *
 * What it does depends on the name it runs under (argv[0]) and on its arguments, after the pattern an
 * execsnoop trace of `irisstop quietly restart` shows:
 *   iris stop|start|restart INSTANCE   -> runs irisstop (stop/restart) and/or the startup irisdb
 *   irisstop [quietly] [restart]       -> irisdb -cV, sh -c "irisdb ... OPT^SHUTDOWN(1)", irisdb -cL,
 *                                         then (restart) irisrecov and the startup
 *   irisrecov MGR quietly              -> iriswdimj -t, iriswdimj -j MGR
 *   irisdb ... -U -B ... QUIET^STU     -> the startup: forks jobs "irisdb -s MGR -cj -p13 ROUTINE",
 *                                         requirements_check, httpd
 *   irisdb ... ROUTINE                 -> a job: burns CPU in the function named after ROUTINE
 *   irisdb --burn MS                   -> burns CPU for MS milliseconds (used by record tests)
 * Durations scale with IRISSIM_MS (milliseconds of work per job, default 250).
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define MAX_ARGS 16

static char bin_dir[PATH_MAX];   /* <install>/bin, found from /proc/self/exe */
static char install_dir[PATH_MAX];
static char mgr_dir[PATH_MAX];   /* <root>/data/IRIS/mgr/, as the -s argument shapes it */
static long work_ms = 250;
static volatile unsigned long sink; /* keeps the compiler from deleting the work */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The innermost work every simulated activity shares: a hash over a small buffer. */
static NOINLINE unsigned long HashBlock(unsigned long seed) {
  unsigned long h = seed;
  for (int i = 0; i < 4096; i++) h = (h ^ (unsigned long)i) * 1099511628211UL;
  return h;
}

static NOINLINE void BurnFor(long ms, unsigned long seed) {
  double end = now_ms() + (double)ms;
  while (now_ms() < end) sink += HashBlock(seed++);
}

/* One function per activity, so a flame graph shows what each simulated process was doing. */
#define ACTIVITY(name, share)                                   \
  static NOINLINE void name(long ms) { BurnFor(ms * share / 100, (unsigned long)__LINE__); }
ACTIVITY(GlobalBufferScan, 100)
ACTIVITY(JournalApply, 100)
ACTIVITY(WriteDaemonFlush, 100)
ACTIVITY(RoutineCompile, 100)
ACTIVITY(ShutdownFlushBuffers, 100)
ACTIVITY(ValidateConfiguration, 100)
ACTIVITY(LicenseCheck, 100)
ACTIVITY(WijRecoveryScan, 100)
ACTIVITY(WijJournalRestore, 100)
ACTIVITY(MonitorSample, 100)
ACTIVITY(CleanDaemonSweep, 100)
ACTIVITY(ReceiveListen, 100)
ACTIVITY(JournalZipScan, 100)
ACTIVITY(SuperServerAccept, 100)
ACTIVITY(ServersStart, 100)
ACTIVITY(TaskManagerRun, 100)
ACTIVITY(LogDaemonWrite, 100)
ACTIVITY(WorkQueueDispatch, 100)
ACTIVITY(RequirementsProbe, 100)
ACTIVITY(HttpdServeRequests, 100)
ACTIVITY(StartupLoadDatabases, 100)

/* A job's entry routine, as IRIS passes it in the arguments, and the function that stands for it. */
struct routine {
  const char *name;
  void (*work)(long ms);
};
static const struct routine ROUTINES[] = {
    {"START^MONITOR", MonitorSample},         {"START^CLNDMN", CleanDaemonSweep},
    {"^RECEIVE", ReceiveListen},              {"SCAN^JRNZIP", JournalZipScan},
    {"Master^%SYS.SERVER", SuperServerAccept}, {"SERVERS^STU1", ServersStart},
    {"RunManager^%SYS.Task", TaskManagerRun}, {"Daemon^LOGDMN", LogDaemonWrite},
    {"startWork^%SYS.WorkQueueMgr", WorkQueueDispatch},
};
#define ROUTINE_COUNT (sizeof ROUTINES / sizeof ROUTINES[0])

/* Run <bin_dir>/<prog> with args (NULL-terminated), wait, return its exit status. */
static int run(const char *prog, char *const args[]) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", bin_dir, prog);
  pid_t pid = fork();
  if (pid == 0) {
    execv(path, args);
    perror(path);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static pid_t spawn(const char *path, char *const args[]) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(path, args);
    perror(path);
    _exit(127);
  }
  return pid;
}

static char *mgr_arg(void) {
  static char arg[PATH_MAX + 3];
  snprintf(arg, sizeof arg, "-s%s", mgr_dir);
  return arg;
}

static NOINLINE void Startup(void) {
  StartupLoadDatabases(work_ms);
  pid_t jobs[ROUTINE_COUNT + 2];
  int n = 0;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/irisdb", bin_dir);
  for (size_t i = 0; i < ROUTINE_COUNT; i++) {
    char *args[] = {"./irisdb", mgr_arg(), "-cj", "-p13", (char *)ROUTINES[i].name, NULL};
    jobs[n++] = spawn(path, args);
    usleep(20 * 1000); /* IRIS starts its daemons one after another */
  }
  snprintf(path, sizeof path, "%s/requirements_check", bin_dir);
  char *check[] = {"requirements_check", NULL};
  jobs[n++] = spawn(path, check);
  char conf[PATH_MAX], httpd[PATH_MAX], httpd_root[PATH_MAX];
  snprintf(conf, sizeof conf, "%s/../httpd/conf/httpd.conf", mgr_dir);
  snprintf(httpd, sizeof httpd, "%s/httpd/bin/httpd", install_dir);
  snprintf(httpd_root, sizeof httpd_root, "%s/httpd", install_dir);
  char *web[] = {"httpd", "-f", conf, "-d", httpd_root, NULL};
  jobs[n++] = spawn(httpd, web);
  for (int i = 0; i < n; i++) waitpid(jobs[i], NULL, 0);
}

static NOINLINE void Shutdown(int restart) {
  char *validate[] = {"./irisdb", mgr_arg(), "-cV", NULL};
  run("irisdb", validate);
  char shutdown_cmd[PATH_MAX * 2];
  snprintf(shutdown_cmd, sizeof shutdown_cmd, "%s/irisdb %s -U -B 'OPT^SHUTDOWN(1)'", bin_dir, mgr_arg());
  pid_t sh = spawn("/bin/sh", (char *[]){"sh", "-c", shutdown_cmd, NULL});
  waitpid(sh, NULL, 0);
  char *license[] = {"./irisdb", mgr_arg(), "-cL", NULL};
  run("irisdb", license);
  if (!restart) return;
  char *recov[] = {"irisrecov", mgr_dir, "quietly", NULL};
  run("irisrecov", recov);
  char *start[] = {"./irisdb", mgr_arg(), "-U", "-B", "-b1024", "-Erunlevel=sys/complete", "QUIET^STU", NULL};
  run("irisdb", start);
}

static int has_arg(int argc, char **argv, const char *want) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], want) == 0) return 1;
  return 0;
}

static int irisdb_main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "--burn") == 0) {
      GlobalBufferScan(atol(argv[i + 1]));
      return 0;
    }
  if (has_arg(argc, argv, "QUIET^STU")) { Startup(); return 0; }
  if (has_arg(argc, argv, "-cV")) { ValidateConfiguration(work_ms / 2); return 0; }
  if (has_arg(argc, argv, "-cL")) { LicenseCheck(work_ms / 4); return 0; }
  if (has_arg(argc, argv, "OPT^SHUTDOWN(1)")) {
    ShutdownFlushBuffers(work_ms);
    WriteDaemonFlush(work_ms / 2);
    return 0;
  }
  for (size_t r = 0; r < ROUTINE_COUNT; r++)
    if (has_arg(argc, argv, ROUTINES[r].name)) { ROUTINES[r].work(work_ms); return 0; }
  RoutineCompile(work_ms);
  return 0;
}

static void find_dirs(void) {
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
  const char *mgr = getenv("IRISSIM_MGR");
  if (mgr) snprintf(mgr_dir, sizeof mgr_dir, "%s", mgr);
  else snprintf(mgr_dir, sizeof mgr_dir, "%s/mgr/", install_dir);
  const char *ms = getenv("IRISSIM_MS");
  if (ms && atol(ms) > 0) work_ms = atol(ms);
}

int main(int argc, char **argv) {
  find_dirs();
  char self[PATH_MAX];
  snprintf(self, sizeof self, "%s", argv[0]);
  const char *name = basename(self);
  if (strcmp(name, "iris") == 0) {
    if (argc < 3) { fprintf(stderr, "usage: iris stop|start|restart INSTANCE\n"); return 2; }
    if (strcmp(argv[1], "stop") == 0 || strcmp(argv[1], "restart") == 0) {
      char *args[] = {"irisstop", "quietly", strcmp(argv[1], "restart") == 0 ? "restart" : NULL, NULL};
      return run("irisstop", args);
    }
    if (strcmp(argv[1], "start") == 0) {
      char *args[] = {"./irisdb", mgr_arg(), "-U", "-B", "-b1024", "-Erunlevel=sys/complete", "QUIET^STU", NULL};
      return run("irisdb", args);
    }
    fprintf(stderr, "iris: unknown action %s\n", argv[1]);
    return 2;
  }
  if (strcmp(name, "irisstop") == 0) { Shutdown(has_arg(argc, argv, "restart")); return 0; }
  if (strcmp(name, "irisrecov") == 0) {
    WijRecoveryScan(work_ms / 2);
    char *t[] = {"iriswdimj", "-t", NULL};
    run("iriswdimj", t);
    char *j[] = {"iriswdimj", "-j", mgr_dir, NULL};
    run("iriswdimj", j);
    return 0;
  }
  if (strcmp(name, "iriswdimj") == 0) { WijJournalRestore(work_ms / 2); return 0; }
  if (strcmp(name, "requirements_check") == 0) { RequirementsProbe(work_ms / 2); return 0; }
  if (strcmp(name, "httpd") == 0) { HttpdServeRequests(work_ms); return 0; }
  if (strcmp(name, "irisrun") == 0) { JournalApply(work_ms); return 0; }
  return irisdb_main(argc, argv);
}
