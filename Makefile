# mapc — mapping-rule compiler and runtime for CRM migrations.
#
#   make            build bin/mapc
#   make test       build, then run every test (prints "N passed, N failed")
#   make asan       build with AddressSanitizer + UBSan into build-asan/ and run the tests
#   make tsan       the same with ThreadSanitizer into build-tsan/ (stage runs three threads)
#   make demo       build, then run the demo on the bundled reference rules
#   make bench      measure maprun stage against jq and a parse-only floor (BENCH_PEOPLE=N)
#   make install PREFIX=/usr/local
#
# Missing Debian packages are installed by tools/deps.sh (as root).

PREFIX   ?= /usr/local
BUILD    ?= build
CC       ?= cc
PKGS     := libcjson lmdb libcurl
WARN     := -Wall -Wextra -Werror -Wshadow -Wundef -Wwrite-strings -Wmissing-prototypes \
            -Wstrict-prototypes -Wold-style-definition
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -pthread $(WARN) $(CFLAGS) $(SAN) \
             -Icompiler -Iruntime -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread

COMPILER_SRC := $(wildcard compiler/*.c)
STDLIB_FILES := $(sort $(wildcard stdlib/*.map) $(wildcard stdlib/salesforce/*.json))
GEN_OBJ      := $(BUILD)/parser.o $(BUILD)/lexer.o $(BUILD)/stdlib_data.o
# Runtime modules shared by mapc (compile, disasm, test) and maprun.
PLAN_OBJ     := $(BUILD)/rt_plan.o $(BUILD)/rt_verify.o $(BUILD)/rt_disasm.o \
                $(BUILD)/rt_vm.o $(BUILD)/rt_mapper.o $(BUILD)/rt_builtins.o $(BUILD)/rt_value.o \
                $(BUILD)/rt_sha256.o $(BUILD)/rt_utf8.o $(BUILD)/rt_jsonbuf.o
COMPILER_OBJ := $(patsubst compiler/%.c,$(BUILD)/%.o,$(COMPILER_SRC)) $(GEN_OBJ) $(PLAN_OBJ)
MAPC         := $(BUILD)/mapc
MAPRUN       := $(BUILD)/maprun
MAPRUN_OBJ   := $(BUILD)/rt_maprun.o $(BUILD)/rt_stage.o $(BUILD)/rt_stage_run.o $(BUILD)/rt_export_csv.o \
                $(BUILD)/rt_sortrun.o $(BUILD)/rt_logwriter.o $(BUILD)/rt_jsonmem.o $(BUILD)/rt_http.o $(BUILD)/rt_sf.o $(BUILD)/rt_csv.o $(BUILD)/rt_load.o $(BUILD)/rt_state.o $(BUILD)/rt_readback.o $(BUILD)/rt_bulkjob.o $(BUILD)/rt_rollback.o $(BUILD)/rt_report.o $(BUILD)/rt_cio.o $(BUILD)/rt_pull.o $(BUILD)/rt_pull_engine.o $(BUILD)/rt_pull_people.o $(BUILD)/rt_deliverables.o \
                $(BUILD)/rt_input.o $(BUILD)/rt_reader.o $(BUILD)/rt_jsonparse.o $(PLAN_OBJ)
# Unit tests: tests/unit/test_NAME.c -> $(BUILD)/test_NAME, run by tests/run.sh.
UNIT_TESTS   := $(BUILD)/test_input $(BUILD)/test_builtins $(BUILD)/test_sortrun $(BUILD)/test_csv $(BUILD)/test_jsonbuf \
               $(BUILD)/test_jsonparse $(BUILD)/test_reader $(BUILD)/test_logwriter

.PHONY: all deps test asan tsan demo install clean unit-tests
all: deps $(MAPC) $(MAPRUN) bin/mapc bin/maprun

deps:
	@sh tools/deps.sh

bin/%: $(BUILD)/%
	@mkdir -p bin
	cp $< $@

$(MAPRUN): $(MAPRUN_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(MAPC): $(COMPILER_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: compiler/%.c | $(BUILD)/parser.h
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/rt_%.o: runtime/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

unit-tests: $(UNIT_TESTS)

$(BUILD)/test_builtins: tests/unit/test_builtins.c $(BUILD)/rt_builtins.o $(BUILD)/rt_value.o \
                        $(BUILD)/rt_sha256.o $(BUILD)/rt_utf8.o $(BUILD)/rt_jsonbuf.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/test_sortrun: tests/unit/test_sortrun.c $(BUILD)/rt_sortrun.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/test_jsonbuf: tests/unit/test_jsonbuf.c runtime/jsonbuf.h $(BUILD)/rt_jsonbuf.o $(BUILD)/rt_value.o \
                       $(BUILD)/rt_utf8.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/test_csv: tests/unit/test_csv.c runtime/csv.h $(BUILD)/rt_csv.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/test_jsonparse: tests/unit/test_jsonparse.c runtime/jsonparse.h $(BUILD)/rt_jsonparse.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/test_logwriter: tests/unit/test_logwriter.c runtime/logwriter.h $(BUILD)/rt_logwriter.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/test_reader: tests/unit/test_reader.c runtime/reader.h $(BUILD)/rt_reader.o $(BUILD)/rt_input.o \
                      $(BUILD)/rt_jsonparse.o $(BUILD)/rt_value.o $(BUILD)/rt_utf8.o $(BUILD)/rt_jsonbuf.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/test_input: tests/unit/test_input.c runtime/input.h $(BUILD)/rt_input.o $(BUILD)/rt_jsonparse.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

# The bench's parse-only floor (maprun's reader and cJSON, nothing else) and its timer.
$(BUILD)/parse_only: tools/bench/parse_only.c runtime/input.h $(BUILD)/rt_input.o $(BUILD)/rt_jsonparse.o
	$(CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/peakrss: tools/bench/peakrss.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -o $@ $<

$(BUILD)/parser.c $(BUILD)/parser.h &: grammar/parser.y | $(BUILD)
	bison -Wall -Werror -d -o $(BUILD)/parser.c $<

$(BUILD)/lexer.c: grammar/lexer.l $(BUILD)/parser.h
	flex -o $@ $<

# Generated code: the usual warning set minus what flex/bison output trips.
GEN_CFLAGS = $(filter-out -Wmissing-prototypes -Wshadow,$(ALL_CFLAGS)) -Wno-unused-function -Wno-sign-compare
$(BUILD)/parser.o: $(BUILD)/parser.c
	$(CC) $(GEN_CFLAGS) -c -o $@ $<
$(BUILD)/lexer.o: $(BUILD)/lexer.c
	$(CC) $(GEN_CFLAGS) -c -o $@ $<

$(BUILD)/embed: tools/embed.c | $(BUILD)
	$(CC) -std=c11 -O1 -o $@ $<

$(BUILD)/stdlib_data.c: $(BUILD)/embed $(STDLIB_FILES)
	$(BUILD)/embed $@ stdlib $(STDLIB_FILES)

$(BUILD)/stdlib_data.o: $(BUILD)/stdlib_data.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)

test: all unit-tests
	@sh tests/run.sh $(MAPC)

asan: deps
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" CFLAGS="-O1 -g" build-asan/mapc build-asan/maprun unit-tests
	ASAN_OPTIONS=detect_leaks=1 sh tests/run.sh build-asan/mapc

# The reader and log-writer threads of maprun stage under ThreadSanitizer.
tsan: deps
	$(MAKE) BUILD=build-tsan SAN="-fsanitize=thread" CFLAGS="-O1 -g" build-tsan/mapc build-tsan/maprun unit-tests
	TSAN_OPTIONS=halt_on_error=1 sh tests/run.sh build-tsan/mapc

demo: all
	@sh tools/demo.sh $(MAPC)

# make bench: maprun stage vs jq vs the parse-only floor on generated data (docs/performance.md).
BENCH_PEOPLE       ?= 100000
BENCH_PEOPLE_LARGE ?= 1000000
.PHONY: bench
bench: all $(BUILD)/parse_only $(BUILD)/peakrss
	python3 tools/bench/run.py --build $(BUILD) --people $(BENCH_PEOPLE) --people-large $(BENCH_PEOPLE_LARGE)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mapc/stdlib/salesforce \
	    $(DESTDIR)$(PREFIX)/share/mapc/rules $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/mapc
	install -m 755 $(MAPC) $(DESTDIR)$(PREFIX)/bin/mapc
	install -m 755 $(MAPRUN) $(DESTDIR)$(PREFIX)/bin/maprun
	install -m 644 stdlib/*.map $(DESTDIR)$(PREFIX)/share/mapc/stdlib/
	install -m 644 stdlib/salesforce/*.json $(DESTDIR)$(PREFIX)/share/mapc/stdlib/salesforce/
	install -m 644 rules/*.map $(DESTDIR)$(PREFIX)/share/mapc/rules/
	install -m 644 docs/mapc.1 docs/maprun.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/mapc/

clean:
	rm -rf build build-asan build-tsan bin

-include $(wildcard $(BUILD)/*.d)
