#ifndef PEERD_CZSTD_SHIM_H
#define PEERD_CZSTD_SHIM_H
#include <zstd.h>
#endif
