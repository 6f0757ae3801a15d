#ifndef PEERD_CTURBOJPEG_SHIM_H
#define PEERD_CTURBOJPEG_SHIM_H
#include <turbojpeg.h>
#endif
