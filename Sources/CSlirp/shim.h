#include <libslirp.h>
#include <sys/eventfd.h>
