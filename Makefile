# Allocator Lab — the front door.
#
#   make check EX=06 [SRC=dir] [JSON=report.json]   grade an exercise (work/exNN by default)
#        [FORMAT=table|json|junit|tap]               what to print (CI systems read junit or tap)
#        [ONLY=perf|"tests/basic perf/seed"]          only these checks or stages, and what they need
#   make start EX=06                                copy the skeleton to work/ex06
#   make hint EX=06 [N=3]                           the next hint of the walkthrough (or hint N)
#   make bench EX=05 [SRC=dir]                      run the exercise's benchmark on your code
#   make list                                       the exercises
#   make batch EX=06 SUBMISSIONS=dir OUT=dir        grade every submission in dir (folders or
#        [JOBS=n] [TIMEOUT_SCALE=f]                  .tar.gz/.zip): OUT/gradebook.csv, summary.html
#   make gradescope EX=06                           build/gradescope-ex06.zip, a Gradescope autograder
#   make handout                                    build/handout/allocator-lab-handout.tar.gz: the
#                                                    students' copy (no solutions, hidden tests, mutants)
#   make test | make test-fast                      the kit's own tests
#   make deps                                       install the Debian packages the kit needs
#   make format                                     clang-format the kit's C code

SHELL := /bin/sh
.DEFAULT_GOAL := help
CC := gcc
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra
# Evaluated when a recipe runs, after `deps` has installed pkg-config and the libraries.
PKG_CFLAGS = $(shell pkg-config --cflags check jansson libarchive)
PKG_LIBS = $(shell pkg-config --libs check jansson libarchive)

GRADER_SRC := $(filter-out grader/src/main.c,$(wildcard grader/src/*.c))
GRADER_HDR := $(wildcard grader/src/*.h)

# A student's handout (make handout) has no solutions, mutants or kit tests:
# what needs them says so in one line.
FULL_KIT = $(if $(wildcard .handout),{ echo "$@: this is a student's handout; that needs the instructors' copy of the kit" >&2; exit 2; } &&,)

# ---- the front door: the grader's own exit status ---------------------------
# make would turn a failed recipe into "make: *** Error 1" and exit status 2.
# A student must see the report and nothing else, and the status the grader
# gave (0 all passed, 1 some failed, 2 grader error). So when one front-door
# goal is the only goal, its command runs while the Makefile is read, and
# make's question mode (-q) turns its status into make's: an up-to-date goal
# exits 0, an out-of-date one 1, $(error) 2.
# What it prints goes to make's own standard output; where this user cannot
# open that (su into a pipe that root owns), to make's standard error, which
# the shell already holds: never a path it would have to open.
LAB_CMD_check = scripts/lab check '$(EX)' '$(SRC)' '$(JSON)' --format '$(FORMAT)' --only '$(ONLY)' $(GRADE_FLAGS)
LAB_CMD_batch = scripts/lab batch '$(EX)' '$(SUBMISSIONS)' '$(OUT)' --jobs '$(or $(JOBS),0)' \
	--timeout-scale '$(or $(TIMEOUT_SCALE),1)' $(GRADE_FLAGS)
LAB_CMD_bench = scripts/lab bench '$(EX)' '$(SRC)'
LAB_CMD_hint = scripts/lab hint '$(EX)' '$(SRC)' '$(N)'
LAB_CMD_start = scripts/lab start '$(EX)'
LAB_CMD_list = scripts/lab list
LAB_CMD_handout = $(FULL_KIT) scripts/handout
FRONT_DOOR := check batch bench hint start list handout
ifneq ($(filter $(MAKECMDGOALS),$(FRONT_DOOR)),)
ifeq ($(words $(MAKECMDGOALS)),1)
LAB_GOAL := $(MAKECMDGOALS)
LAB_STATUS := $(shell out=/proc/$$PPID/fd/1; \
	if (true >>"$$out") 2>/dev/null; then $(LAB_CMD_$(LAB_GOAL)) >>"$$out"; \
	else $(LAB_CMD_$(LAB_GOAL)) 1>&2; fi; echo $$?)
ifeq ($(LAB_STATUS),0)
MAKEFLAGS += -q
$(LAB_GOAL): Makefile
else ifeq ($(LAB_STATUS),1)
MAKEFLAGS += -q
.PHONY: $(LAB_GOAL)
$(LAB_GOAL):
	@:
else
$(error see the line above)
endif
endif
endif
ifeq ($(LAB_GOAL),)
.PHONY: $(FRONT_DOOR)
$(FRONT_DOOR):
	@$(LAB_CMD_$@)
endif

.PHONY: help deps gradescope test test-fast format clean

help:
	@sed -n '3,/^$$/s/^# \{0,1\}//p' Makefile

deps:
	@scripts/deps.sh

gradescope: build/grade
	@$(FULL_KIT) scripts/gradescope/build.sh '$(EX)'

# ---- the grader -------------------------------------------------------------

build/grade: grader/src/main.c $(GRADER_SRC) $(GRADER_HDR) | build/.deps
	@mkdir -p build
	@$(CC) $(CFLAGS) -DHARNESS_CFLAGS='"$(PKG_CFLAGS)"' -DHARNESS_LIBS='"$(PKG_LIBS)"' \
		grader/src/main.c $(GRADER_SRC) -o $@ $(PKG_LIBS)

build/.deps: scripts/deps.sh
	@scripts/deps.sh
	@mkdir -p build && touch $@

# ---- the kit's own tests ----------------------------------------------------
# Unit tests of the grader, then every exercise graded as its reference, its
# skeleton and each of its mutants. Both programs are Check suites; the last
# line is the total.

build/unit-tests: grader/tests/unit/*.c grader/tests/run_suite.h $(GRADER_SRC) $(GRADER_HDR) | build/.deps
	@$(CC) $(CFLAGS) -Igrader/src grader/tests/unit/*.c $(GRADER_SRC) -o $@ $(PKG_LIBS)

build/kit-tests: grader/tests/kit/*.c grader/tests/run_suite.h grader/src/util.c grader/src/manifest.c $(GRADER_HDR) | build/.deps
	@$(CC) $(CFLAGS) -Igrader/src grader/tests/kit/*.c grader/src/util.c grader/src/manifest.c -o $@ $(PKG_LIBS)

ifeq ($(wildcard .handout),)
test: build/grade build/unit-tests build/kit-tests
	@scripts/selftest

test-fast: build/grade build/unit-tests build/kit-tests
	@ALAB_FAST=1 scripts/selftest
else
test test-fast:
	@$(FULL_KIT) :
endif

format:
	clang-format -i grader/src/*.[ch] grader/harness/*.[ch] grader/tests/*/*.c \
		exercises/*/tests/*.[ch] exercises/*/hidden/*.c solutions/*/*.c skeletons/*/*.c

clean:
	rm -rf build
