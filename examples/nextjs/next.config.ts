import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The Docker image builds a self-contained server (node .next/standalone/server.js);
  // `next start` serves the ordinary build.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  poweredByHeader: false,
  // `pg` is loaded by Node at run time rather than bundled.
  serverExternalPackages: ["pg"],
};

export default nextConfig;
