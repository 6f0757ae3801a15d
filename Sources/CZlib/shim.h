#ifndef PEERD_CZLIB_SHIM_H
#define PEERD_CZLIB_SHIM_H
#include <zlib.h>
#endif
