# syntax=docker/dockerfile:1
#
# One image for both processes of gemini-party:
#   frontend (default):  docker run -p 3000:3000 --env-file .env IMAGE
#   silo:                docker run -w /app/silo IMAGE dotnet /app/silo/GeminiParty.Silo.dll
# The working directory matters: it is the content root where each process finds its appsettings.json.
#
# Build args:
#   READY_TO_RUN=true|false   precompile (ReadyToRun) for faster start; needs a RID, taken from the build platform.

ARG DOTNET_VERSION=10.0

FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG TARGETARCH
ARG READY_TO_RUN=true
WORKDIR /src

# Restore from the project files and the shared props alone, so this layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Grains.Abstractions/*.csproj src/Grains.Abstractions/
COPY src/Grains/*.csproj src/Grains/
COPY src/Hosting/*.csproj src/Hosting/
COPY src/Silo/*.csproj src/Silo/
COPY src/Frontend/*.csproj src/Frontend/
COPY deploy/docker/healthcheck/*.csproj deploy/docker/healthcheck/
# TARGETARCH is Docker's name (amd64, arm64); .NET wants x64, arm64.
RUN arch="${TARGETARCH:-amd64}"; [ "$arch" = amd64 ] && arch=x64; \
    echo "linux-$arch" > /tmp/rid; \
    for project in src/Frontend src/Silo deploy/docker/healthcheck; do \
      dotnet restore "$project" -r "$(cat /tmp/rid)" -p:PublishReadyToRun="$READY_TO_RUN" || exit 1; \
    done

COPY . .
# Framework-dependent (the runtime image provides ASP.NET Core); UseAppHost=false: started with `dotnet x.dll`.
RUN rid="$(cat /tmp/rid)"; \
    publish() { dotnet publish "$1" -c Release --no-restore -r "$rid" --self-contained false \
                  -p:PublishReadyToRun="$READY_TO_RUN" -p:UseAppHost=false -o "$2"; }; \
    publish src/Frontend /app/frontend \
 && publish src/Silo /app/silo \
 && publish deploy/docker/healthcheck /app/healthcheck

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
# The base image sets ASPNETCORE_HTTP_PORTS=8080; both processes bind from PORT instead (frontend 3000, silo 8080),
# so clear it to avoid the "overriding HTTP_PORTS" warning and any doubt about which port is live.
ENV ASPNETCORE_HTTP_PORTS= \
    DOTNET_NOLOGO=1
COPY --from=build /app /app
WORKDIR /app/frontend
# 3000 frontend HTTP, 8080 silo health (/healthz, /readyz), 11111 silo-to-silo, 30000 client gateway.
EXPOSE 3000 8080 11111 30000
# Non-root: the aspnet image defines the user `app` with UID $APP_UID (1654). The files under /app stay owned by
# root, so the process cannot rewrite its own binaries.
USER $APP_UID
CMD ["dotnet", "/app/frontend/GeminiParty.Frontend.dll"]
