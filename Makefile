# The two commands a newcomer needs: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test reset bench chromium package deploy smoke lint clean messages

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

## Extract every marked message into chalicelib/locales/messages.pot, update each language's .po
## and compile the .mo files the app reads. `make messages NEW=it` starts a new language's catalog.
LOCALES := chalicelib/locales
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ --no-location --sort-output --project=Circles \
	  --add-comments=Translators: -o $(LOCALES)/messages.pot .
	@if [ -n "$(NEW)" ]; then $(BIN)/pybabel -q init -i $(LOCALES)/messages.pot -d $(LOCALES) -l $(NEW); fi
	$(BIN)/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel -q compile -d $(LOCALES)

## Wipe the local stack's saved data.
reset:
	rm -rf .local
	@echo "Local data wiped; the next 'make run' loads the demo data again."

bench: install
	$(BIN)/python -m bench.run_all

## The stage to package and deploy; only prod has a stack template (infra/resources.yaml).
STAGE ?= prod
## An S3 bucket of yours in the stack's region that `aws cloudformation package` uploads the zip to.
DEPLOY_BUCKET ?=
## Who the alarms email (optional; the AlarmTopic's subscription).
ALARM_EMAIL ?=
REGION ?= us-east-1

## out/sam.yaml and out/deployment.zip: the SAM template (infra/resources.yaml merged in) and the Lambda zip.
package: install
	rm -rf out && AWS_DEFAULT_REGION=$(REGION) $(BIN)/chalice package --stage $(STAGE) --pkg-format cloudformation --merge-template infra/resources.yaml out/
	$(BIN)/python -m scripts.trim_package out/deployment.zip

## Deploy the stack circles-$(STAGE) with the AWS CLI v2 (2.x: `aws cloudformation package`
## uploads the zip, `aws cloudformation deploy` creates or updates the stack). README "Deploy".
deploy:
	@test "$(STAGE)" = prod || { echo "make deploy: only the prod stage has a stack template (infra/resources.yaml)" >&2; exit 2; }
	@test -n "$(DEPLOY_BUCKET)" || { echo "make deploy: set DEPLOY_BUCKET=<an S3 bucket in $(REGION) for the Lambda zip>" >&2; exit 2; }
	@command -v aws >/dev/null || { echo "make deploy: needs the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)" >&2; exit 2; }
	$(MAKE) package STAGE=$(STAGE) REGION=$(REGION)
	aws --region $(REGION) cloudformation package --template-file out/sam.yaml --s3-bucket $(DEPLOY_BUCKET) --output-template-file out/packaged.yaml
	aws --region $(REGION) cloudformation deploy --template-file out/packaged.yaml --stack-name circles-$(STAGE) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset --parameter-overrides AlarmEmail=$(ALARM_EMAIL)
	aws --region $(REGION) cloudformation describe-stacks --stack-name circles-$(STAGE) --query 'Stacks[0].Outputs' --output table

## Check a deployed stack over HTTP: public pages, the browse API, the OpenAPI document, an HTML 404.
smoke:
	@test -n "$(URL)" || { echo "make smoke: set URL=<the stack's EndpointURL or your domain>" >&2; exit 2; }
	$(PYTHON) -m scripts.smoke $(URL)

clean:
	rm -rf $(VENV) out test-output .pytest_cache
