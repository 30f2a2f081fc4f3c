<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0" styleCategories="Symbology">
  <renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">
    <rules key="root">
      <rule key="polygons" label="polygons" filter="geometry_type($geometry) = &apos;Polygon&apos;">
        <rule key="polygons-1" label="1" filter="&quot;axis&quot; = 1" symbol="0"/>
        <rule key="polygons-2" label="2" filter="&quot;axis&quot; = 2" symbol="1"/>
        <rule key="polygons-3" label="3" filter="&quot;axis&quot; = 3" symbol="2"/>
        <rule key="polygons-4" label="4" filter="&quot;axis&quot; = 4" symbol="3"/>
        <rule key="polygons-5" label="5" filter="&quot;axis&quot; = 5" symbol="4"/>
        <rule key="polygons-6" label="6" filter="&quot;axis&quot; = 6" symbol="5"/>
        <rule key="polygons-7" label="7" filter="&quot;axis&quot; = 7" symbol="6"/>
        <rule key="polygons-8" label="8" filter="&quot;axis&quot; = 8" symbol="7"/>
        <rule key="polygons-other" label="other" filter="ELSE" symbol="8"/>
      </rule>
      <rule key="lines" label="lines" filter="geometry_type($geometry) = &apos;Line&apos;">
        <rule key="lines-1" label="1" filter="&quot;axis&quot; = 1" symbol="9"/>
        <rule key="lines-2" label="2" filter="&quot;axis&quot; = 2" symbol="10"/>
        <rule key="lines-3" label="3" filter="&quot;axis&quot; = 3" symbol="11"/>
        <rule key="lines-4" label="4" filter="&quot;axis&quot; = 4" symbol="12"/>
        <rule key="lines-5" label="5" filter="&quot;axis&quot; = 5" symbol="13"/>
        <rule key="lines-6" label="6" filter="&quot;axis&quot; = 6" symbol="14"/>
        <rule key="lines-7" label="7" filter="&quot;axis&quot; = 7" symbol="15"/>
        <rule key="lines-8" label="8" filter="&quot;axis&quot; = 8" symbol="16"/>
        <rule key="lines-other" label="other" filter="ELSE" symbol="17"/>
      </rule>
      <rule key="points" label="points" filter="geometry_type($geometry) = &apos;Point&apos;">
        <rule key="points-1" label="1" filter="&quot;axis&quot; = 1" symbol="18"/>
        <rule key="points-2" label="2" filter="&quot;axis&quot; = 2" symbol="19"/>
        <rule key="points-3" label="3" filter="&quot;axis&quot; = 3" symbol="20"/>
        <rule key="points-4" label="4" filter="&quot;axis&quot; = 4" symbol="21"/>
        <rule key="points-5" label="5" filter="&quot;axis&quot; = 5" symbol="22"/>
        <rule key="points-6" label="6" filter="&quot;axis&quot; = 6" symbol="23"/>
        <rule key="points-7" label="7" filter="&quot;axis&quot; = 7" symbol="24"/>
        <rule key="points-8" label="8" filter="&quot;axis&quot; = 8" symbol="25"/>
        <rule key="points-other" label="other" filter="ELSE" symbol="26"/>
      </rule>
    </rules>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="241,196,15,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="39,174,96,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="142,68,173,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="41,128,185,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="4" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="230,126,34,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="5" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="192,57,43,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="6" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="22,160,133,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="7" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="232,67,147,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="8" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="127,140,141,255"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="9" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="241,196,15,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="10" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="39,174,96,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="11" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="142,68,173,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="12" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="41,128,185,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="13" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="230,126,34,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="14" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="192,57,43,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="15" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="22,160,133,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="16" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="232,67,147,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="line" name="17" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" type="QString" value="127,140,141,255"/>
            <Option name="line_width" type="QString" value="1.05"/>
            <Option name="capstyle" type="QString" value="round"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="18" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="241,196,15,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="19" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="39,174,96,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="20" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="142,68,173,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="21" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="41,128,185,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="22" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="230,126,34,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="23" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="192,57,43,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="24" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="22,160,133,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="25" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="232,67,147,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="26" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="127,140,141,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
