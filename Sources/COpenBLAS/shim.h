#ifndef PEERD_COPENBLAS_SHIM_H
#define PEERD_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
