/*
 * Simulated IRIS (see irissim.c): what its parts share. NOT IRIS: names and argument shapes after IRIS's,
 * work that only burns CPU or waits under names that say what the real process would be doing.
 */
#ifndef IRISSIM_H
#define IRISSIM_H
#define _GNU_SOURCE
#include <limits.h>
#include <sys/types.h>

#define NOINLINE __attribute__((noinline))

extern char bin_dir[PATH_MAX];      /* <install>/bin */
extern char install_dir[PATH_MAX];  /* <root>/usr/irissys */
extern char data_root[PATH_MAX];    /* <root>/data: one data dir per instance below it */
extern char data_dir[PATH_MAX];     /* <root>/data/NAME (no trailing slash) */
extern char mgr_dir[PATH_MAX];      /* <root>/data/NAME/mgr/ (trailing slash, as IRIS writes -s) */
extern char instance_name[64];
extern long work_ms;                /* IRISSIM_MS: ms of CPU work per start/stop step */
extern long busy_ms;                /* IRISSIM_BUSY_MS: ms of CPU per cycle of a resident process */
extern long cycle_ms;               /* IRISSIM_CYCLE_MS: a resident process's cycle (sleep + work) */

void BurnFor(long ms, unsigned long seed);
double now_ms(void);
void sleep_ms(long ms);

/* instance.c: one instance's directories, its processes (pid list in the mgr dir), start and stop. */
int valid_instance_name(const char *name);
void select_instance(const char *name);          /* data dir from the name; exported to children */
void select_instance_by_mgr(const char *mgr);     /* from a -s argument or irisrecov's MGR */
void ensure_instance_dirs(void);
pid_t running_control(void);                      /* this instance's live control process, or 0 */
void ready_signal(void);                          /* tell whoever started us (IRISSIM_READY_FD) we are up */
int become_resident(const char *role);            /* 0 when there is no running instance to belong to */
void resident_loop(void (*work)(long ms));        /* until SIGTERM or the control process dies */
int control_main(void);
int start_instance(void);                         /* irisrecov, the control process, QUIET^STU */
void stop_instance_processes(void);               /* SIGTERM residents, then control; waits for them */
int force_instance(void);
int list_instances(const char *only);

/* waits.c: the disk, file, lock and configuration waits of a real start and stop. */
void create_data_files(void);
int ReadConfigurationFile(void);
int LookUpLicenseKey(void);
void WijReadAll(void);
void JournalReadAndApply(void);
void DatabaseMount(void);
void WriteDaemonFinalPass(void);
void instance_lock_create(void);
double instance_lock(void);
void instance_unlock(void);
double CleanDaemonHoldLock(void (*work)(long ms), long ms);
double JournalZipAwaitLock(void (*work)(long ms), long ms);

/* Spawning: path + argv (cwd, when set, for programs IRIS runs as ./name). */
pid_t spawn_in(const char *cwd, const char *path, char *const args[], int ready_fd);
int wait_status(pid_t pid);
int run(const char *prog, char *const args[]);

#endif
