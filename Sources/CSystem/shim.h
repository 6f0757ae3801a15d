#ifndef PEERD_CSYSTEM_SHIM_H
#define PEERD_CSYSTEM_SHIM_H
/* glibc declarations Swift's Glibc module does not export (mallopt). */
#include <malloc.h>
#endif
