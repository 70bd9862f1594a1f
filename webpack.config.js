// Builds the Proxmox VE UI plugin: TypeScript ExtJS classes -> one minified
// plugin/dist/proximity.js (+ source map), which the Debian package installs as
// /usr/share/pve-manager/js/proximity.js.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import TerserPlugin from 'terser-webpack-plugin';
import webpack from 'webpack';

const root = path.dirname(fileURLToPath(import.meta.url));
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/**
 * ExtJS's callParent finds the method to call through Function.prototype.caller, which
 * strict-mode functions hide (it reads null), so a strict initComponent cannot call its
 * parent. PVE's own code is sloppy-mode script for the same reason. webpack marks the bundle
 * of our ES modules "use strict"; this turns the directive into a plain string statement of
 * the same length (the source map stays exact). Our code does not rely on strict semantics.
 */
class SloppyForExtCallParent {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('SloppyForExtCallParent', (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: 'SloppyForExtCallParent', stage: webpack.Compilation.PROCESS_ASSETS_STAGE_OPTIMIZE_INLINE },
        (assets) => {
          for (const name of Object.keys(assets).filter((file) => file.endsWith('.js'))) {
            const source = assets[name].source().toString();
            const sloppy = source.replaceAll('"use strict"', '"use sloppy"');
            if (sloppy !== source) compilation.updateAsset(name, new webpack.sources.RawSource(sloppy));
          }
        },
      );
    });
  }
}

export default (_env, argv) => ({
  mode: argv.mode ?? 'production',
  target: ['web', 'es2020'],
  context: root,
  entry: './plugin/src/index.ts',
  output: {
    path: path.join(root, 'plugin/dist'),
    filename: 'proximity.js',
    clean: true,
  },
  devtool: 'source-map',
  resolve: { extensions: ['.ts', '.js'] },
  module: {
    rules: [
      {
        test: /\.ts$/,
        loader: 'ts-loader',
        options: { configFile: path.join(root, 'plugin/tsconfig.json') },
        exclude: /node_modules/,
      },
    ],
  },
  plugins: [
    new webpack.DefinePlugin({ PROXIMITY_VERSION: JSON.stringify(version) }),
    new SloppyForExtCallParent(),
    new webpack.BannerPlugin({ banner: `Proximity ${version} for Proxmox VE (AGPL-3.0-or-later)` }),
  ],
  optimization: {
    // One file for pve-manager's js directory: keep the licence banner inline.
    minimizer: [new TerserPlugin({ extractComments: false })],
  },
  performance: { hints: false },
});
