# chatcards — build, test and deploy helpers. `make help` lists the targets.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(HOME)/.pyenv/shims:$(PATH)

GO        ?= go
FUNCTIONS := api sync syncworker export exportworker
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -trimpath -tags lambda.norpc -ldflags='-s -w'

.PHONY: help build test test-unit lint bench fuzz demo validate tools clean $(addprefix build-,$(FUNCTIONS))

help:
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## one linux/arm64 bootstrap per function under .build/<name>/, and the local CLI
	@for f in $(FUNCTIONS); do \
		echo "build $$f"; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o .build/$$f/bootstrap ./functions/$$f || exit 1; \
	done
	$(GO) build -o .build/chatcards ./cmd/chatcards

# SAM's makefile build method calls build-<LogicalId> with ARTIFACTS_DIR set.
build-ApiFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api
build-SyncFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sync
build-SyncWorkerFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/syncworker
build-ExportFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/export
build-ExportWorkerFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/exportworker

test: ## every test, with moto_server and dynalite started for the integration tests
	./scripts/with-emulators.sh $(GO) test -count=1 ./...

test-unit: ## the tests that need no emulator (integration tests skip)
	$(GO) test ./...

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	staticcheck ./...

bench: ## benchmarks (compare runs with benchstat)
	$(GO) test -run '^$$' -bench . -benchmem ./shared/...

fuzz: ## a short run of every fuzz target
	@for p in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$p || exit 1; \
		done; \
	done

demo: ## the whole story locally: API, platform, sync, export into ./demo-out
	$(GO) run ./cmd/chatcards demo -out demo-out

validate: ## lint the SAM template
	cfn-lint template.yaml

clean:
	rm -rf .build demo-out
