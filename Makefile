# Allocator Lab — the front door.
#
#   make check EX=06 [SRC=dir] [JSON=report.json]   grade an exercise (work/exNN by default)
#        [FORMAT=table|json|junit|tap]               what to print (CI systems read junit or tap)
#   make start EX=06                                copy the skeleton to work/ex06
#   make hint EX=06                                 the next hint of the walkthrough
#   make bench EX=05 [SRC=dir]                      run the exercise's benchmark on your code
#   make list                                       the exercises
#   make batch EX=06 SUBMISSIONS=dir OUT=dir        grade every submission in dir (folders or
#        [JOBS=n] [TIMEOUT_SCALE=f]                  .tar.gz/.zip): OUT/gradebook.csv, summary.html
#   make gradescope EX=06                           build/gradescope-ex06.zip, a Gradescope autograder
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

# ---- make check: the grader's own exit status --------------------------------
# make would turn a failed recipe into "make: *** Error 1" and exit status 2.
# A student must see the report and nothing else, and the status the grader
# gave (0 all passed, 1 some failed, 2 grader error). So when `check` is the
# only goal, the grader runs while the Makefile is read (its report goes to
# make's own standard output), and make's question mode (-q) turns its status
# into make's: an up-to-date goal exits 0, an out-of-date one 1, $(error) 2.
# `make batch` works the same way.
LAB_CHECK = scripts/lab check '$(EX)' '$(SRC)' '$(JSON)' --format '$(FORMAT)' $(GRADE_FLAGS)
LAB_BATCH = scripts/lab batch '$(EX)' '$(SUBMISSIONS)' '$(OUT)' --jobs '$(or $(JOBS),0)' \
	--timeout-scale '$(or $(TIMEOUT_SCALE),1)' $(GRADE_FLAGS)
ifneq ($(filter $(MAKECMDGOALS),check batch),)
ifeq ($(words $(MAKECMDGOALS)),1)
LAB_GOAL := $(MAKECMDGOALS)
LAB_STATUS := $(shell out=/proc/$$PPID/fd/1; [ -w "$$out" ] || out=/dev/stderr; \
	$(if $(filter check,$(LAB_GOAL)),$(LAB_CHECK),$(LAB_BATCH)) >>"$$out"; echo $$?)
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
.PHONY: check batch
check:
	@$(LAB_CHECK)
batch:
	@$(LAB_BATCH)
endif

.PHONY: help deps start hint bench list gradescope test test-fast format clean

help:
	@sed -n '3,/^$$/s/^# \{0,1\}//p' Makefile

deps:
	@scripts/deps.sh

start:
	@scripts/lab start '$(EX)'

hint:
	@scripts/lab hint '$(EX)' '$(SRC)'

bench:
	@scripts/lab bench '$(EX)' '$(SRC)'

list:
	@scripts/lab list

gradescope: build/grade
	@scripts/gradescope/build.sh '$(EX)'

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

test: build/grade build/unit-tests build/kit-tests
	@scripts/selftest

test-fast: build/grade build/unit-tests build/kit-tests
	@ALAB_FAST=1 scripts/selftest

format:
	clang-format -i grader/src/*.[ch] grader/harness/*.[ch] grader/tests/*/*.c \
		exercises/*/tests/*.[ch] exercises/*/hidden/*.c solutions/*/*.c skeletons/*/*.c

clean:
	rm -rf build
