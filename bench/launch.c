/*
 * launch: minimal stand-in for `/usr/bin/time -f "%e %U %S %M" -o FILE`,
 * used by bench/run.py when GNU time is not installed (or BENCH_TIMER=launch).
 *
 *   launch OUTFILE command [args...]
 *
 * Runs the command, waits for it with wait4() and writes one line
 * "<elapsed s> <user s> <sys s> <max RSS KiB>" to OUTFILE.  Exits with the
 * command's exit status (128 + signal number if it was killed).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: launch OUTFILE command [args...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	FILE *f = fopen(argv[1], "w");
	if (f == NULL) {
		perror(argv[1]);
		return 2;
	}
	if (WIFSIGNALED(status))
		fprintf(f, "Command terminated by signal %d\n", WTERMSIG(status));
	fprintf(f, "%.3f %.3f %.3f %ld\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9,
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6,
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6,
	    ru.ru_maxrss);
	fclose(f);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
