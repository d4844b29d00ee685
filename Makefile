# The two commands a newcomer needs: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test reset bench chromium package lint clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'pip<26.3'  # chalice 1.34 refuses pip 26.3+
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

## Browser tests drive Debian's chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-liberation >/dev/null; }

## Start moto (DynamoDB + SES), load demo data, serve the app on 127.0.0.1:8000 with a local scheduler.
run: install
	$(BIN)/python -m scripts.local_stack

## Run the whole test suite against a moto server, a Twilio fake and real Chromium.
test: install chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile

## Wipe the local stack's saved data.
reset:
	rm -rf .local
	@echo "Local data wiped; the next 'make run' loads the demo data again."

bench: install
	$(BIN)/python -m bench.run_all

package: install
	rm -rf out && AWS_DEFAULT_REGION=us-east-1 $(BIN)/chalice package --stage prod --pkg-format cloudformation --merge-template infra/resources.yaml out/

clean:
	rm -rf $(VENV) out test-output .pytest_cache
