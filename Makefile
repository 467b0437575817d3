# Pillarbox - one Makefile for both boards, the tests and the size report.
#
#   make run     build the ARM image and boot it under QEMU (console on this terminal)
#   make sim     build the firmware as a Linux process: build/sim/pillarbox-sim
#   make test    unit, power-loss, fuzz-smoke, end-to-end (sim) and QEMU boot tests
#   make size    text/data/bss of the ARM image against the board's budgets
#   make fuzz    each libFuzzer target for FUZZ_SECONDS (600) under ASan/UBSan
#   make bench   the store's measurements, SMTP in and out and TLS handshakes side by side
#                with Postfix, IMAP with Dovecot
#
# Every target first installs what is missing (Debian packages, then lwIP and
# wolfSSL as source from Debian's source packages into build/deps/).

.SUFFIXES:
.DELETE_ON_ERROR:
SHELL := /bin/bash

B     := build
DEPS  := $(B)/deps
LWIP  := $(DEPS)/lwip
WOLF  := $(DEPS)/wolfssl

PKG_STAMP  := $(B)/.packages
DEPS_STAMP := $(DEPS)/.fetched

# ---------------------------------------------------------------- sources ---

# altcp_alloc.c is left out: net/tls.c provides altcp_tls_new/alloc itself,
# because a pcb the application created must be marked as known to it.
LWIP_SRC := $(addprefix $(LWIP)/src/core/, \
	altcp.c altcp_tcp.c def.c dns.c inet_chksum.c init.c ip.c \
	mem.c memp.c netif.c pbuf.c raw.c stats.c sys.c tcp.c tcp_in.c tcp_out.c \
	timeouts.c udp.c) \
	$(addprefix $(LWIP)/src/core/ipv4/, \
	autoip.c dhcp.c etharp.c icmp.c igmp.c ip4.c ip4_addr.c ip4_frag.c) \
	$(addprefix $(LWIP)/src/core/ipv6/, \
	dhcp6.c ethip6.c icmp6.c inet6.c ip6.c ip6_addr.c ip6_frag.c mld6.c nd6.c) \
	$(LWIP)/src/netif/ethernet.c

# wolfSSL: TLS 1.2/1.3 client and server, configured by net/user_settings.h.
# Files whose feature is switched off there compile to nothing (fe_/ge_low_mem.c
# serve the ARM board's CURVE25519_SMALL/ED25519_SMALL, fe_/ge_operations.c the
# host).  Not listed on purpose: misc.c, evp.c, ssl_misc.c, pk.c, bio.c,
# x509.c, x509_str.c and conf.c are #included by other files in 5.5.4.
WOLF_COMMON := $(addprefix $(WOLF)/src/, \
	internal.c keys.c ssl.c tls.c tls13.c wolfio.c) \
	$(addprefix $(WOLF)/wolfcrypt/src/, \
	aes.c asn.c chacha.c chacha20_poly1305.c coding.c curve25519.c ecc.c \
	ed25519.c error.c fe_low_mem.c fe_operations.c ge_low_mem.c \
	ge_operations.c hash.c hmac.c kdf.c \
	logging.c memory.c poly1305.c pwdbased.c random.c rsa.c sha.c sha256.c \
	sha512.c signature.c sp_int.c wc_encrypt.c wc_port.c wolfmath.c)
WOLF_HOST := $(WOLF_COMMON) $(WOLF)/wolfcrypt/src/sp_c64.c
WOLF_ARM  := $(WOLF_COMMON) $(WOLF)/wolfcrypt/src/sp_cortexm.c

# The web page's files (firmware/web/), embedded by a tool of ours into a
# const table (firmware/web_asset.h) that is compiled like our own code.
WEB_GEN    := $(B)/gen/web_assets.c
WEB_ASSETS := $(shell find firmware/web -type f 2>/dev/null | sort)
$(WEB_GEN): tools/embed-assets.py $(WEB_ASSETS)
	@mkdir -p $(@D)
	python3 tools/embed-assets.py firmware/web $@

# Our code.  main.c holds only main(), so tests can link the rest.
FW_SRC   := $(filter-out firmware/main.c,$(wildcard firmware/*.c)) $(WEB_GEN)
NET_SRC  := $(wildcard net/*.c)
SVC_SRC  := $(wildcard mail/*.c smtp/*.c pop3/*.c imap/*.c accounts/*.c)
STORE_SRC := $(wildcard store/*.c)
SIM_SRC  := $(wildcard board/sim/*.c)
ARM_SRC  := $(wildcard board/mps2-an500/*.c)
ARM_ASM  := $(wildcard board/mps2-an500/*.S)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

# ------------------------------------------------------------------ flags ---

WARN     := -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror
INC      := -Ihal -Inet -Istore -Imail -Ismtp -Ipop3 -Iimap -Iaccounts -Ifirmware -I$(LWIP)/src/include -I$(WOLF)
DEFS     := -DWOLFSSL_USER_SETTINGS
SLIRP_CF := $(shell pkg-config --cflags slirp 2>/dev/null)
SLIRP_LD := $(shell pkg-config --libs slirp 2>/dev/null || echo -lslirp)

HOST_CC   := gcc
SIM_OPT   := -O2 -g -DPB_BOARD_SIM -Iboard/sim
TEST_OPT  := -O1 -g -DPB_BOARD_SIM -Iboard/sim -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_CC   := clang
FUZZ_OPT  := -O1 -g -DPB_BOARD_SIM -Iboard/sim -DPB_FUZZ -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all

ARM_PREFIX := arm-none-eabi-
ARM_CC     := $(ARM_PREFIX)gcc
ARM_CPU    := -mcpu=cortex-m7 -mthumb -mfloat-abi=soft
ARM_OPT    := -Os -g $(ARM_CPU) -Iboard/mps2-an500 -ffunction-sections -fdata-sections -DPB_BOARD_MPS2 --specs=nano.specs
ARM_LD     := board/mps2-an500/mps2-an500.ld
ARM_LDFLAGS := $(ARM_CPU) --specs=nano.specs -nostartfiles -T$(ARM_LD) -Wl,--gc-sections \
	-Wl,-Map,$(B)/arm/pillarbox.map -Wl,--print-memory-usage

# ------------------------------------------------------- build templates ---
# $(call variant,NAME,CC,OPTS): object rules for our code and for the
# dependencies in build/NAME/.  Dependencies build with -w so their warnings
# never meet our -Werror.
define variant
$(B)/$(1)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(2) $(WARN) $(3) $(INC) $(DEFS) $$(if $$(filter board/sim/% tests/%,$$<),-D_GNU_SOURCE $(SLIRP_CF)) -MMD -MP -c $$< -o $$@
$(B)/$(1)/obj/%.o: %.S | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(2) $(3) $(INC) -MMD -MP -c $$< -o $$@
$(B)/$(1)/dep/%.o: $(DEPS)/%.c | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	$(2) -w $(filter-out -fsanitize=fuzzer-no-link%,$(3)) -std=gnu11 $(INC) $(DEFS) -MMD -MP -c $$< -o $$@
endef

$(eval $(call variant,sim,$(HOST_CC),$(SIM_OPT)))
$(eval $(call variant,test,$(HOST_CC),$(TEST_OPT)))
$(eval $(call variant,fuzz,$(FUZZ_CC),$(FUZZ_OPT)))
$(eval $(call variant,arm,$(ARM_CC),$(ARM_OPT)))

obj = $(patsubst %.c,$(B)/$(1)/obj/%.o,$(patsubst %.S,$(B)/$(1)/obj/%.o,$(2)))
dep = $(patsubst $(DEPS)/%.c,$(B)/$(1)/dep/%.o,$(2))

LIBS_HOST := $(SLIRP_LD) -lm

# wolfSSL is configured by net/user_settings.h: a change there rebuilds it.
$(foreach v,sim test fuzz arm,$(call dep,$(v),$(WOLF_HOST) $(WOLF_ARM))): net/user_settings.h

# ------------------------------------------------------------ the targets ---

.PHONY: all sim arm run size test unit fuzz e2e qemu powerloss powerloss-long bench packages deps clean

all: sim arm

packages: $(PKG_STAMP)
$(PKG_STAMP): tools/install-packages.sh
	@mkdir -p $(B)
	tools/install-packages.sh
	@touch $@

deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/fetch-deps.sh tools/deps.sha256 | $(PKG_STAMP)
	tools/fetch-deps.sh $(DEPS)
	@touch $@

# --- CA roots embedded in the image (net/ca_bundle.h) ---
# Made from Debian's ca-certificates package (installed by the package step)
# by tools/ca-bundle.sh; generated, never committed.  A newer package
# rebuilds it.
CA_BUNDLE := $(B)/gen/ca_bundle.c
$(CA_BUNDLE): tools/ca-bundle.sh $(wildcard /usr/share/ca-certificates/mozilla/*.crt) | $(PKG_STAMP)
	@mkdir -p $(@D)
	tools/ca-bundle.sh $@

# --- sim board ---
SIM_OBJ := $(call obj,sim,$(FW_SRC) $(SVC_SRC) $(NET_SRC) $(STORE_SRC) $(SIM_SRC) firmware/main.c $(CA_BUNDLE)) \
	$(call dep,sim,$(LWIP_SRC) $(WOLF_HOST))
sim: $(B)/sim/pillarbox-sim
$(B)/sim/pillarbox-sim: $(SIM_OBJ)
	$(HOST_CC) -o $@ $^ $(LIBS_HOST)

# The diagnostic sim of the tests: the same firmware with services.c replaced
# by a TLS echo listener on 443 (tests/e2e/diag_services.c), for TLS checks from
# the host.  Never part of the product.
DIAG_OBJ := $(filter-out $(B)/sim/obj/firmware/services.o,$(SIM_OBJ)) $(B)/sim/obj/tests/e2e/diag_services.o
$(B)/test/pillarbox-sim-diag: $(DIAG_OBJ)
	@mkdir -p $(@D)
	$(HOST_CC) -o $@ $^ $(LIBS_HOST)

# The relay host tests' sim: the same firmware whose bundle also trusts a
# test CA made here (its key stays in build/test/testca/ for the tests to
# sign with).  Never part of the product.
$(B)/test/testca/ca.crt:
	@mkdir -p $(@D)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=Pillarbox test CA" -keyout $(@D)/ca.key -out $@ 2>/dev/null
$(B)/gen/ca_bundle_testca.c: tools/ca-bundle.sh $(B)/test/testca/ca.crt | $(PKG_STAMP)
	@mkdir -p $(@D)
	tools/ca-bundle.sh $@ $(B)/test/testca/ca.crt
TESTCA_OBJ := $(filter-out $(call obj,sim,$(CA_BUNDLE)),$(SIM_OBJ)) $(call obj,sim,$(B)/gen/ca_bundle_testca.c)
$(B)/test/pillarbox-sim-testca: $(TESTCA_OBJ)
	@mkdir -p $(@D)
	$(HOST_CC) -o $@ $^ $(LIBS_HOST)

# --- ARM board (MPS2 AN500 under QEMU) ---
ARM_OBJ := $(call obj,arm,$(FW_SRC) $(SVC_SRC) $(NET_SRC) $(STORE_SRC) $(ARM_SRC) $(ARM_ASM) firmware/main.c $(CA_BUNDLE)) \
	$(call dep,arm,$(LWIP_SRC) $(WOLF_ARM))
arm: $(B)/arm/pillarbox.elf
$(B)/arm/pillarbox.elf: $(ARM_OBJ) $(ARM_LD)
	$(ARM_CC) $(ARM_LDFLAGS) -o $@ $(ARM_OBJ) -lc -lgcc
	@$(ARM_PREFIX)size $@

size: $(B)/arm/pillarbox.elf
	@tools/size-report.sh $<
	@echo "web page assets (firmware/web/, in code flash): $$(sed -n 's/.*web_assets_bytes = \([0-9]*\);/\1/p' $(WEB_GEN)) bytes in $$(sed -n 's/.*web_assets_count = \([0-9]*\);/\1/p' $(WEB_GEN)) files"

# QEMU's mps2-an500 has the LAN9118 on board: "-nic user,model=lan9118" gives
# it slirp (10.0.2.15 by DHCP, the host's loopback as 10.0.2.2) with every
# service port forwarded from 127.0.0.1:(PORT_OFFSET + port).  The options
# after -append reach the board through semihosting (board/mps2-an500/board.c):
# flash=PATH, flash-size=BYTES (empty FLASH_SIZE: the file's size, 16 MiB for
# a new file), port-offset=N.  The console is multiplexed with QEMU's
# monitor so Ctrl-A X quits even when the firmware does not listen.
QEMU_PORTS := 25 587 465 143 993 110 995 80 443
PORT_OFFSET ?= 10000
FLASH ?= $(B)/qemu-flash.img
FLASH_SIZE ?=
ARM_QEMU := qemu-system-arm -M mps2-an500 -nographic -monitor none \
	-semihosting-config enable=on,target=native
ARM_QEMU_NIC = user,model=lan9118$(subst $(space),,$(foreach p,$(QEMU_PORTS),$(comma)hostfwd=tcp:127.0.0.1:$(shell echo $$(($(PORT_OFFSET)+$(p))))-:$(p)))
run: $(B)/arm/pillarbox.elf
	@echo "Pillarbox on QEMU mps2-an500, flash $(FLASH), services on 127.0.0.1:$(PORT_OFFSET)+port."
	@echo "Console below; 'poweroff' or Ctrl-A X quits."
	$(ARM_QEMU) -serial mon:stdio -nic $(ARM_QEMU_NIC) \
		-kernel $< -append "flash=$(FLASH)$(if $(FLASH_SIZE), flash-size=$(FLASH_SIZE)) port-offset=$(PORT_OFFSET)"
comma := ,
space := $(subst ,, )

# --- tests ---
# Unit tests link everything but main() of the firmware and the sim board,
# built with AddressSanitizer and UBSan.
TEST_LIB_OBJ := $(call obj,test,$(FW_SRC) $(SVC_SRC) $(NET_SRC) $(STORE_SRC) $(SIM_SRC) $(CA_BUNDLE)) \
	$(call dep,test,$(LWIP_SRC) $(WOLF_HOST))
$(B)/test/libpb.a: $(TEST_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/test/unit/%: $(B)/test/obj/tests/unit/%.o $(B)/test/libpb.a
	@mkdir -p $(@D)
	$(HOST_CC) -fsanitize=address,undefined -o $@ $< $(B)/test/libpb.a -lcmocka $(LIBS_HOST)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/test/unit/%,$(UNIT_SRC))

# The power-cut harness (tests/powerloss/): one C program that runs the
# store's workload on the sim flash and checks it after a cut.
$(B)/test/powerloss/workload: $(B)/test/obj/tests/powerloss/workload.o $(B)/test/libpb.a
	@mkdir -p $(@D)
	$(HOST_CC) -fsanitize=address,undefined -o $@ $< $(B)/test/libpb.a $(LIBS_HOST)
POWERLOSS_BIN := $(B)/test/powerloss/workload

# Test tool: what a powered-off appliance's flash holds (tests/e2e/store_dump.c).
$(B)/test/store-dump: $(B)/test/obj/tests/e2e/store_dump.o $(B)/test/libpb.a
	$(HOST_CC) -fsanitize=address,undefined -o $@ $< $(B)/test/libpb.a $(LIBS_HOST)

# Fuzz targets: each links only the modules its parser needs (listed in the
# target's first line as "// fuzz-links: firmware/console.c ...").
fuzz_links = $(shell sed -n '1s|^// fuzz-links:||p' $(1))
FUZZ_INPUTS := $(wildcard hal/*.h mail/*.[ch] smtp/*.[ch] pop3/*.[ch] imap/*.[ch] accounts/*.[ch] store/*.[ch] firmware/*.[ch] net/*.h board/sim/*.h)
$(B)/fuzz/bin/%: tests/fuzz/%.c $(FUZZ_INPUTS) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN) $(FUZZ_OPT) -fsanitize=fuzzer $(INC) $(DEFS) -o $@ $< $(call fuzz_links,$<)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(B)/fuzz/bin/%,$(FUZZ_SRC))

# Everything that builds is tested; what does not build is counted as failed.
test: $(PKG_STAMP) $(DEPS_STAMP)
	@$(MAKE) --no-print-directory -k -j$$(nproc) sim $(B)/test/pillarbox-sim-diag $(B)/test/pillarbox-sim-testca $(B)/test/store-dump $(UNIT_BIN) $(POWERLOSS_BIN) $(FUZZ_BIN) arm || \
		echo "make test: some targets did not build; their tests will fail"
	@python3 tests/run.py

# More power cuts than make test's budget allows (PB_POWERLOSS_LONG=1).
powerloss-long: $(PKG_STAMP) $(DEPS_STAMP) $(POWERLOSS_BIN)
	PB_POWERLOSS_LONG=1 python3 tests/powerloss/test_powercut.py

# make bench: the store's measurements (tests/bench/store_bench.sh: write
# amplification, erase spread, mount time, index RAM, instructions per
# message), built with -O2 and no sanitizers.  The side by side with
# Postfix/Dovecot comes with the services.
BENCH_STORE_SRC := tests/bench/store_bench.c $(STORE_SRC) board/sim/sim_flash.c
$(B)/bench/store_bench: $(BENCH_STORE_SRC) $(wildcard store/*.h hal/*.h board/sim/sim_flash.h)
	@mkdir -p $(@D)
	$(HOST_CC) $(WARN) -O2 -g -D_GNU_SOURCE -DPB_BOARD_SIM -Iboard/sim -Ihal -Istore -o $@ $(BENCH_STORE_SRC)
# MIME parser throughput on a 10 MB message (host, -O2): make build/bench/mime_bench.
BENCH_MIME_SRC := tests/bench/mime_bench.c mail/mime.c mail/cte.c
$(B)/bench/mime_bench: $(BENCH_MIME_SRC) mail/mime.h mail/cte.h
	@mkdir -p $(@D)
	$(HOST_CC) $(WARN) -O2 -g -D_GNU_SOURCE -Ihal -Imail -o $@ $(BENCH_MIME_SRC)
# Longer fuzzing than make test's smoke run: FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 600
fuzz: $(PKG_STAMP) $(DEPS_STAMP)
	@$(MAKE) --no-print-directory -j$$(nproc) $(FUZZ_BIN)
	@PB_SUITES=fuzz PB_FUZZ_SECONDS=$(FUZZ_SECONDS) python3 tests/run.py

bench: $(PKG_STAMP) $(B)/bench/store_bench $(B)/sim/pillarbox-sim
	@tests/bench/store_bench.sh $(B)/bench/store_bench
	@python3 tests/bench/smtp_bench.py
	@python3 tests/bench/imap_bench.py
	@python3 tests/bench/outbound_bench.py
	@python3 tests/bench/tls_bench.py

clean:
	rm -rf $(B)/sim $(B)/test $(B)/fuzz $(B)/arm $(B)/bench $(B)/gen

-include $(shell find $(B)/sim $(B)/test $(B)/fuzz $(B)/arm -name '*.d' -type f 2>/dev/null)

# Debugging aid: make print-VAR shows a variable.
print-%:
	@echo '$($*)'
