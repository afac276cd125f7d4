/*
 * loader_elf.c: load steps 4 and 5 (ABI.md 8.2). The library named by the
 * manifest must be a regular, readable file, and its ELF header must say
 * "shared object for this machine" before dlopen sees it: dlerror()'s text
 * for a 32-bit or foreign file ("wrong ELF class", "invalid ELF header") is
 * far less clear than naming both sides.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader_internal.h"

/* e_ident (16 bytes), then e_type and e_machine: the same offsets in
 * 32-bit and 64-bit headers. */
#define ELF_PREFIX_LEN 20

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#elif defined(__powerpc__)
#define HOST_MACHINE EM_PPC
#elif defined(__s390__)
#define HOST_MACHINE EM_S390
#elif defined(__mips__)
#define HOST_MACHINE EM_MIPS
#else
/* Unknown to this table: the machine is left to dlopen to refuse. */
#define HOST_MACHINE EM_NONE
#endif

#define HOST_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_DATA ELFDATA2MSB
#else
#define HOST_DATA ELFDATA2LSB
#endif

static const char *class_name(unsigned c) {
  return c == ELFCLASS64 ? "64-bit" : c == ELFCLASS32 ? "32-bit" : "unknown";
}

static const char *data_name(unsigned d) {
  return d == ELFDATA2LSB   ? "little-endian"
         : d == ELFDATA2MSB ? "big-endian"
                            : "unknown";
}

int sam__loader_check_file(const sam__manifest *m, sam_load_result *res) {
  const char *who = m->name;
  const char *path = m->library;
  unsigned char h[ELF_PREFIX_LEN];
  char magic[16] = "";
  struct stat st;
  ssize_t n = 0;
  int fd = -1;
  int rc = 0;
  uint16_t type;
  uint16_t machine;

  /* Step 4: a regular, readable file. */
  if (stat(path, &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_FILE, SAM_ENOENT,
                            "missing file [%s]", path);
    return sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_FILE, SAM_EIO,
                          "cannot stat [%s] [%s]", path, strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    return sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_FILE, SAM_EINVAL,
                          "not a regular file [%s]", path);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_FILE, SAM_EIO,
                          "cannot read [%s] [%s]", path, strerror(errno));

  /* Step 5: magic, class, byte order, type, machine. */
  while ((size_t)n < sizeof(h)) {
    ssize_t r = read(fd, h + n, sizeof(h) - (size_t)n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      rc = sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_FILE, SAM_EIO,
                          "cannot read [%s] [%s]", path, strerror(errno));
      goto done;
    }
    if (r == 0)
      break;
    n += r;
  }
  for (ssize_t i = 0; i < n && i < SELFMAG; i++)
    snprintf(magic + strlen(magic), sizeof(magic) - strlen(magic), "%s%02x",
             i > 0 ? " " : "", h[i]);
  if (n < SELFMAG || memcmp(h, ELFMAG, SELFMAG) != 0) {
    rc =
        sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_ELF, SAM_EINVAL,
                       "not an ELF shared object [%s] magic [%s]", path, magic);
    goto done;
  }
  if (n < ELF_PREFIX_LEN) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_ELF, SAM_EINVAL,
                        "not an ELF shared object [%s] truncated header "
                        "[%zd bytes]",
                        path, n);
    goto done;
  }
  if (h[EI_CLASS] != HOST_CLASS) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_ELF, SAM_EVERSION,
                        "ELF class differs host [%s] plugin [%s] [%s]",
                        class_name(HOST_CLASS), class_name(h[EI_CLASS]), path);
    goto done;
  }
  if (h[EI_DATA] != HOST_DATA) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_ELF, SAM_EVERSION,
                        "ELF byte order differs host [%s] plugin [%s] [%s]",
                        data_name(HOST_DATA), data_name(h[EI_DATA]), path);
    goto done;
  }
  /* Same byte order as the host from here on, so native loads are right. */
  memcpy(&type, h + EI_NIDENT, sizeof(type));
  memcpy(&machine, h + EI_NIDENT + sizeof(type), sizeof(machine));
  if (type != ET_DYN) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_ELF, SAM_EINVAL,
                        "not an ELF shared object [%s] e_type [%u]", path,
                        (unsigned)type);
    goto done;
  }
  if (HOST_MACHINE != EM_NONE && machine != HOST_MACHINE) {
    rc = sam__load_fail(res, who, SAM_LOAD_STEP_LIBRARY_ELF, SAM_EVERSION,
                        "ELF machine differs host [%u] plugin [%u] [%s]",
                        (unsigned)HOST_MACHINE, (unsigned)machine, path);
    goto done;
  }

done:
  close(fd);
  return rc;
}
