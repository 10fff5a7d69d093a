/* vigilctl sub-commands. Each returns the process exit code (0 ok, 1 failure, 2 usage). */
#ifndef VIGILCTL_H
#define VIGILCTL_H

int ctl_tenants(const char *database_url, int argc, char **argv);
int ctl_dlq(const char *brokers, int argc, char **argv);

#endif
