/* The check families (one file each); registered in checks/families.c. */
#ifndef FUZZER_CHECKS_H
#define FUZZER_CHECKS_H

#include "../check.h"

int fz_check_api1(fz_ctx *ctx);
int fz_check_api2(fz_ctx *ctx);
int fz_check_api3(fz_ctx *ctx);
int fz_check_api4(fz_ctx *ctx);
int fz_check_api5(fz_ctx *ctx);
int fz_check_api7(fz_ctx *ctx);
int fz_check_api8(fz_ctx *ctx);
int fz_check_api9(fz_ctx *ctx);
int fz_check_inj(fz_ctx *ctx);

extern const fz_check_def fz_defs_api1[];
extern const fz_check_def fz_defs_api2[];
extern const fz_check_def fz_defs_api3[];
extern const fz_check_def fz_defs_api4[];
extern const fz_check_def fz_defs_api5[];
extern const fz_check_def fz_defs_api7[];
extern const fz_check_def fz_defs_api8[];
extern const fz_check_def fz_defs_api9[];
extern const fz_check_def fz_defs_inj[];

/* Shared by several families: how long a request took compared with a baseline. */
#define FZ_DELAY_S 2

#endif
