<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="belt" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
      <category symbol="0" value="A" label="A" render="true"/>
      <category symbol="1" value="B" label="B" render="true"/>
      <category symbol="2" value="C" label="C" render="true"/>
      <category symbol="3" value="" label="other" render="true"/>
    </categories>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="31,97,141,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="93,173,226,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="214,234,248,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="127,140,141,128"/>
            <Option name="outline_color" type="QString" value="44,62,80,255"/>
            <Option name="outline_width" type="QString" value="0.26"/>
            <Option name="style" type="QString" value="solid"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
