/*
 * Simulated IRIS: the waits of a real start and stop, so an off-CPU view has something true to show.
 * Journal and WIJ recovery read their files with O_DIRECT in 8 KB blocks (disk waits, state D); the write
 * daemon writes with O_DIRECT|O_DSYNC; where a file system refuses O_DIRECT, buffered IO with fdatasync
 * (and the cache dropped before reads) stands in. The CPF is read line by line; the license key is looked
 * up and is missing (ENOENT); jobs hand a process-shared mutex in shared memory (<mgr>/irissim.shm) to
 * each other, so a waiter blocks in futex. NOT IRIS: the files hold a pattern, not data.
 */
#include "irissim.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 8192
#define WIJ_BLOCKS 256          /* 2 MB */
#define JOURNAL_BLOCKS 128      /* 1 MB each */
#define DATABASE_BLOCKS 512     /* 4 MB */
#define JOURNAL_FILES 2

static void data_path(char *out, size_t size, const char *name) { snprintf(out, size, "%s%s", mgr_dir, name); }

static void journal_path(char *out, size_t size, int index) {
  snprintf(out, size, "%sjournal/20261130.%03d", mgr_dir, index + 1);
}

static unsigned char *aligned_block(size_t size) {
  void *buf = NULL;
  if (posix_memalign(&buf, 4096, size) != 0) { perror("posix_memalign"); exit(1); }
  return buf;
}

/* Open for direct IO; where O_DIRECT is refused, a buffered descriptor and *direct = 0. */
static int open_direct(const char *path, int flags, int *direct) {
  /* IRISSIM_NO_DIRECT=1 takes the fallback as if the file system refused O_DIRECT (to test it) */
  int fd = getenv("IRISSIM_NO_DIRECT") ? (errno = EINVAL, -1) : open(path, flags | O_DIRECT | O_CLOEXEC, 0644);
  *direct = fd >= 0;
  if (fd < 0 && errno == EINVAL) fd = open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0) perror(path);
  return fd;
}

/* Read a whole file block by block from the disk. Returns the blocks read. */
static NOINLINE long ReadBlocksFromDisk(const char *path) {
  int direct;
  int fd = open_direct(path, O_RDONLY, &direct);
  if (fd < 0) return 0;
  if (!direct) { fdatasync(fd); posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); }
  unsigned char *buf = aligned_block(BLOCK);
  long blocks = 0;
  while (read(fd, buf, BLOCK) == BLOCK) blocks++;
  free(buf);
  close(fd);
  return blocks;
}

/* Write count blocks at block offset first, each reaching the disk before the next (O_DSYNC, or fdatasync). */
static NOINLINE void WriteBlocksToDisk(const char *path, long first, int count, unsigned char fill) {
  int direct;
  int fd = open_direct(path, O_WRONLY | O_CREAT | O_DSYNC, &direct);
  if (fd < 0) return;
  unsigned char *buf = aligned_block(BLOCK);
  memset(buf, fill, BLOCK);
  for (int i = 0; i < count; i++) {
    if (pwrite(fd, buf, BLOCK, (off_t)(first + i) * BLOCK) != BLOCK) { perror(path); break; }
    if (!direct) fdatasync(fd);
  }
  free(buf);
  close(fd);
}

/* A file of `blocks` blocks of real data (not sparse: reads of holes never reach the disk). */
static void create_file(const char *path, long blocks, unsigned char seed) {
  struct stat st;
  if (stat(path, &st) == 0 && st.st_size == blocks * BLOCK) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) { perror(path); return; }
  unsigned char *buf = aligned_block(BLOCK);
  for (long b = 0; b < blocks; b++) {
    for (int i = 0; i < BLOCK; i += 64) buf[i] = (unsigned char)(seed + b + i);
    if (write(fd, buf, BLOCK) != BLOCK) { perror(path); break; }
  }
  free(buf);
  fsync(fd);
  close(fd);
}

/* The instance's data files: the WIJ, two journal files and their list, the IRISSYS database. */
void create_data_files(void) {
  char path[PATH_MAX + 64];
  data_path(path, sizeof path, "journal");
  mkdir(path, 0755);
  data_path(path, sizeof path, "IRIS.WIJ");
  create_file(path, WIJ_BLOCKS, 1);
  data_path(path, sizeof path, "IRIS.DAT");
  create_file(path, DATABASE_BLOCKS, 2);
  data_path(path, sizeof path, "journal.log");
  FILE *list = fopen(path, "w");
  for (int j = 0; j < JOURNAL_FILES; j++) {
    journal_path(path, sizeof path, j);
    create_file(path, JOURNAL_BLOCKS, (unsigned char)(3 + j));
    if (list) fprintf(list, "%s\n", path);
  }
  if (list) fclose(list);
}

/* Read the CPF line by line, as each IRIS process that needs the configuration does. Returns its sections. */
NOINLINE int ReadConfigurationFile(void) {
  char path[PATH_MAX + 16], line[512];
  snprintf(path, sizeof path, "%s/iris.cpf", data_dir);
  FILE *cpf = fopen(path, "r");
  if (cpf == NULL) { perror(path); return 0; }
  int sections = 0;
  while (fgets(line, sizeof line, cpf)) sections += line[0] == '[';
  fclose(cpf);
  return sections;
}

/* The license key: a community instance has none, so this lookup fails with ENOENT every start. */
NOINLINE int LookUpLicenseKey(void) {
  char path[PATH_MAX + 16];
  data_path(path, sizeof path, "iris.key");
  struct stat st;
  if (stat(path, &st) == 0) return 1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) { close(fd); return 1; }
  return 0;
}

/* iriswdimj -t: scan the whole write image journal for blocks to restore. */
NOINLINE void WijReadAll(void) {
  char path[PATH_MAX + 16];
  data_path(path, sizeof path, "IRIS.WIJ");
  ReadBlocksFromDisk(path);
}

/* iriswdimj -j: read the journal files listed in journal.log, then apply (write) a few blocks. */
NOINLINE void JournalReadAndApply(void) {
  char path[PATH_MAX + 16];
  for (int j = 0; j < JOURNAL_FILES; j++) {
    journal_path(path, sizeof path, j);
    ReadBlocksFromDisk(path);
  }
  data_path(path, sizeof path, "IRIS.DAT");
  WriteBlocksToDisk(path, 16, 16, 0x5a);
}

/* The control process mounts IRISSYS: the first blocks of IRIS.DAT, and marks the WIJ in use. */
NOINLINE void DatabaseMount(void) {
  char path[PATH_MAX + 16];
  data_path(path, sizeof path, "IRIS.DAT");
  int direct;
  int fd = open_direct(path, O_RDONLY, &direct);
  if (fd < 0) return;
  if (!direct) posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  unsigned char *buf = aligned_block(BLOCK);
  for (int b = 0; b < 64; b++)
    if (pread(fd, buf, BLOCK, (off_t)b * BLOCK) != BLOCK) break;
  free(buf);
  close(fd);
  data_path(path, sizeof path, "IRIS.WIJ");
  WriteBlocksToDisk(path, 0, 1, 0x11);
}

/* The write daemon's last pass at shutdown: dirty buffers to the database, then the WIJ marked clean. */
NOINLINE void WriteDaemonFinalPass(void) {
  char path[PATH_MAX + 16];
  data_path(path, sizeof path, "IRIS.DAT");
  WriteBlocksToDisk(path, 64, 48, 0xa5);
  data_path(path, sizeof path, "IRIS.WIJ");
  WriteBlocksToDisk(path, 0, 1, 0x00);
}

/* The instance lock: a robust, process-shared mutex in <mgr>/irissim.shm, created by the control process.
 * At start START^CLNDMN holds it while SCAN^JRNZIP waits for it: the clean daemon keeps it until the journal
 * zip job is blocked in futex (read from /proc/PID/syscall), so the hand-over shows in every start. */
struct shared_area {
  pthread_mutex_t lock;
  volatile int holder_pid, waiter_pid;
  unsigned long handoffs;
};
static struct shared_area *shared;
#define SYSCALL_FUTEX 202

static struct shared_area *map_shared(int create) {
  char path[PATH_MAX + 16];
  data_path(path, sizeof path, "irissim.shm");
  int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0644);
  if (fd < 0) return NULL;
  if (create && ftruncate(fd, 4096) != 0) { close(fd); return NULL; }
  void *area = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  return area == MAP_FAILED ? NULL : area;
}

void instance_lock_create(void) {
  shared = map_shared(1);
  if (shared == NULL) return;
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&shared->lock, &attr);
  pthread_mutexattr_destroy(&attr);
}

/* Take the instance lock, blocking in futex while another process holds it. Returns the ms waited, or -1
 * when there is no instance (a job run by hand). */
double instance_lock(void) {
  if (shared == NULL) shared = map_shared(0);
  if (shared == NULL) return -1;
  double asked = now_ms();
  int rc = pthread_mutex_trylock(&shared->lock);
  if (rc == EBUSY) rc = pthread_mutex_lock(&shared->lock);
  if (rc == EOWNERDEAD) pthread_mutex_consistent(&shared->lock); /* its holder was killed */
  else if (rc != 0) return -1;
  shared->holder_pid = getpid();
  shared->handoffs++;
  return now_ms() - asked;
}

void instance_unlock(void) {
  if (shared == NULL) return;
  shared->holder_pid = 0;
  pthread_mutex_unlock(&shared->lock);
}

static int in_futex(pid_t pid) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return atoi(buf) == SYSCALL_FUTEX;
}

/* START^CLNDMN's start: its sweep holds the lock; half-way it waits (up to 2 s) for SCAN^JRNZIP to queue up. */
double CleanDaemonHoldLock(void (*work)(long ms), long ms) {
  double waited = instance_lock();
  work(ms / 2);
  if (waited >= 0)
    for (int i = 0; i < 1000; i++) {
      pid_t waiter = shared->waiter_pid;
      if (waiter != 0 && in_futex(waiter)) break;
      sleep_ms(2);
    }
  work(ms - ms / 2);
  if (waited >= 0) instance_unlock();
  return waited;
}

/* SCAN^JRNZIP's start: once the clean daemon holds the lock (up to 2 s), wait for it. Returns the ms waited. */
double JournalZipAwaitLock(void (*work)(long ms), long ms) {
  if (shared == NULL) shared = map_shared(0);
  if (shared == NULL) { work(ms); return -1; }
  for (int i = 0; i < 1000 && shared->holder_pid == 0; i++) sleep_ms(2);
  shared->waiter_pid = getpid();
  double waited = instance_lock();
  shared->waiter_pid = 0;
  work(ms);
  if (waited >= 0) instance_unlock();
  return waited;
}
